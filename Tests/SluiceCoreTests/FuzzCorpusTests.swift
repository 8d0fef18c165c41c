import Foundation
import SluiceCore
import XCTest

/// Replays the committed fuzz corpora (`FuzzCorpus/json`, `FuzzCorpus/config`)
/// through the same checks as the libFuzzer targets in `fuzz/` (see
/// `FuzzChecks/`), so every input the fuzzers ever found, crashes included,
/// stays fixed. Grow the corpora with `bash scripts/fuzz.sh --minimize`.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzCorpus")

    /// Every file of `FuzzCorpus/folder`, by name.
    static func inputs(_ folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = corpus.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    func testJSONCorpusPassesTheFuzzChecks() throws {
        let files = try Self.inputs("json")
        XCTAssertGreaterThanOrEqual(files.count, 10, "the JSON corpus is missing")
        var outcomes: [String: JSONFuzzCheck.Outcome] = [:]
        for file in files {
            XCTAssertLessThanOrEqual(file.bytes.count, 4096, "\(file.name) is larger than the fuzzer's -max_len")
            do {
                outcomes[file.name] = try JSONFuzzCheck.run(file.bytes)
            } catch {
                XCTFail("\(file.name): \(error)")
            }
        }
        XCTAssertEqual(outcomes.count, files.count)
        XCTAssertGreaterThan(outcomes.values.filter { $0 == .accepted }.count, 5)
        XCTAssertGreaterThan(outcomes.values.filter { $0 == .rejected }.count, 3)
        // The seeds whose outcome is known.
        XCTAssertEqual(outcomes["seed-chat"], .accepted)
        XCTAssertEqual(outcomes["seed-depth-256"], .accepted)
        XCTAssertEqual(outcomes["seed-depth-257"], .rejected)
        XCTAssertEqual(outcomes["seed-deep-objects"], .rejected)
        XCTAssertEqual(outcomes["seed-deep-unclosed"], .rejected)
        XCTAssertEqual(outcomes["seed-bad-surrogate"], .rejected)
        XCTAssertEqual(outcomes["seed-bad-utf8"], .rejected)
        XCTAssertEqual(outcomes["crash-repeated-stream"], .accepted)
    }

    func testConfigCorpusPassesTheFuzzChecks() throws {
        let files = try Self.inputs("config")
        XCTAssertGreaterThanOrEqual(files.count, 10, "the config corpus is missing")
        var outcomes: [String: ConfigFuzzCheck.Outcome] = [:]
        for file in files {
            XCTAssertLessThanOrEqual(file.bytes.count, 4096, "\(file.name) is larger than the fuzzer's -max_len")
            do {
                outcomes[file.name] = try ConfigFuzzCheck.run(file.bytes)
            } catch {
                XCTFail("\(file.name): \(error)")
            }
        }
        XCTAssertEqual(outcomes.count, files.count)
        XCTAssertEqual(outcomes["seed-example"], .accepted)
        XCTAssertEqual(outcomes["seed-readme"], .accepted)
        XCTAssertEqual(outcomes["seed-empty"], .accepted)
        XCTAssertEqual(outcomes["seed-both-off"], .rejected)
        XCTAssertEqual(outcomes["seed-unknown-key"], .rejected)
        XCTAssertEqual(outcomes["seed-bad-yaml"], .rejected)
        XCTAssertEqual(outcomes["crash-duplicate-key-order"], .rejected)
    }

    /// A deeper document than the corpus may hold (its files stay under 4 KiB).
    func testVeryDeepNestingIsRefusedNotACrash() throws {
        for opener in ["[", "{\"a\":"] {
            let bytes = Array(String(repeating: opener, count: 100_000).utf8)
            XCTAssertEqual(try JSONFuzzCheck.run(bytes), .rejected)
        }
    }
}
