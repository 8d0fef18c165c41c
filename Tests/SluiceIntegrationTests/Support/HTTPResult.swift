import Foundation
import NIOHTTP1

/// A whole answer as the test client received it.
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or `nil` when it is not one.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    func header(_ name: String) -> String? {
        headers.first(name: name)
    }
}

/// A streamed answer, each body part stamped with the moment it arrived.
struct StreamedResult: Sendable {
    struct Chunk: Sendable {
        var arrival: ContinuousClock.Instant
        var bytes: Data
    }

    var status: Int
    var headers: HTTPHeaders
    /// When the request was sent.
    var sent: ContinuousClock.Instant
    var chunks: [Chunk]

    var body: Data { chunks.reduce(into: Data()) { $0 += $1.bytes } }

    /// The `data:` payloads of the SSE events in the body, in order (`[DONE]` included).
    var events: [String] {
        String(decoding: body, as: UTF8.self)
            .components(separatedBy: "\n\n")
            .compactMap { event in
                let line = event.trimmingCharacters(in: .whitespacesAndNewlines)
                guard line.hasPrefix("data:") else { return nil }
                return line.dropFirst("data:".count).trimmingCharacters(in: .whitespaces)
            }
    }

    /// When the first event's bytes arrived and when the last event's bytes arrived.
    var firstArrival: ContinuousClock.Instant? { chunks.first?.arrival }
    var lastArrival: ContinuousClock.Instant? { chunks.last?.arrival }
}
