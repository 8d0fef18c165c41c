import Foundation
import XCTest

/// Replays the committed HTTP fuzz corpus (`FuzzCorpus/http`) through the same
/// checks as the `FuzzHTTP` libFuzzer target in `fuzz/` (see
/// `FuzzChecks/HTTPFuzzCheck.swift`): each file is what one client sent on one
/// connection, fed to NIO's HTTP/1.1 server pipeline on an `EmbeddedChannel`.
final class HTTPFuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus").appendingPathComponent("http")

    func testHTTPCorpusPassesTheFuzzChecks() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10, "the HTTP corpus is missing")
        var outcomes: [String: HTTPFuzzCheck.Outcome] = [:]
        for name in names {
            let bytes = Array(try Data(contentsOf: Self.corpus.appendingPathComponent(name)))
            XCTAssertLessThanOrEqual(bytes.count, 4096, "\(name) is larger than the fuzzer's -max_len")
            do {
                outcomes[name] = try HTTPFuzzCheck.run(bytes)
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
        XCTAssertEqual(outcomes.count, names.count)
        func statusLines(_ name: String) -> [String] {
            let text = String(decoding: outcomes[name]?.output ?? [], as: UTF8.self)
            // Responses follow one another without a separator; none of these bodies holds "HTTP/1.1 ".
            return text.components(separatedBy: "HTTP/1.1 ").dropFirst().map {
                "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "")
            }
        }
        // The seeds whose answers are known.
        XCTAssertEqual(statusLines("seed-get"), ["HTTP/1.1 200 OK"])
        XCTAssertEqual(statusLines("seed-post-json"), ["HTTP/1.1 200 OK"])
        XCTAssertEqual(outcomes["seed-chunked"]?.answered, 1)
        XCTAssertEqual(statusLines("seed-chunked"), ["HTTP/1.1 200 OK"])
        XCTAssertEqual(outcomes["seed-pipelined"]?.answered, 3)
        XCTAssertEqual(statusLines("seed-pipelined").count, 3)
        XCTAssertEqual(statusLines("seed-too-large"), ["HTTP/1.1 413 Payload Too Large"])
        XCTAssertEqual(statusLines("seed-too-large-chunked"), ["HTTP/1.1 413 Payload Too Large"])
        XCTAssertEqual(statusLines("seed-bad-request"), ["HTTP/1.1 400 Bad Request"])
        XCTAssertEqual(statusLines("seed-bad-length"), ["HTTP/1.1 400 Bad Request"], "two content-lengths")
        XCTAssertEqual(statusLines("seed-te-and-cl"), ["HTTP/1.1 400 Bad Request"], "content-length with chunked")
        XCTAssertEqual(statusLines("seed-bad-json"), ["HTTP/1.1 400 Bad Request"])
        XCTAssertEqual(statusLines("seed-deep-json"), ["HTTP/1.1 400 Bad Request"])
        XCTAssertEqual(statusLines("seed-close"), ["HTTP/1.1 200 OK"], "nothing is answered after Connection: close")
        XCTAssertEqual(outcomes["seed-partial"]?.answered, 0)
    }
}
