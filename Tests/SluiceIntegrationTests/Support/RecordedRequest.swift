import Foundation

/// One request as it reached the fake gateway.
struct RecordedRequest: Sendable {
    var method: String
    /// The path with its query, e.g. `/v1/chat/completions`.
    var path: String
    /// Header names lower-cased, in arrival order.
    var headers: [(name: String, value: String)]
    var body: Data

    /// The first value of a header, matched without regard to case.
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    /// The body parsed as a JSON object, or `nil` when it is not one.
    var jsonBody: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }
}
