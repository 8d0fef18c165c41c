import SluiceCore

/// Watches an SSE stream go by and keeps the usage it reports, read the way
/// its API says (`LLMAPI.streamUsage(_:after:)`).
///
/// Only `data:` lines that mention `"usage"` are parsed, so a stream costs one
/// byte scan, not one JSON parse per chunk.
struct StreamUsageScanner {
    let api: any LLMAPI
    private(set) var usage: TokenUsage?
    private var line: [UInt8] = []
    /// A line longer than this is not a usage line worth keeping.
    private static let maximumLineBytes = 1 << 20

    init(api: any LLMAPI) {
        self.api = api
    }

    mutating func consume(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                finishLine()
            } else if line.count < Self.maximumLineBytes {
                line.append(byte)
            }
        }
    }

    private mutating func finishLine() {
        defer { line.removeAll(keepingCapacity: true) }
        guard line.count > 6, line.starts(with: "data:".utf8) else { return }
        var payload = line.dropFirst(5)
        while payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
        while payload.last == UInt8(ascii: "\r") { payload = payload.dropLast() }
        guard payload.first == UInt8(ascii: "{"), containsUsage(payload) else { return }
        guard let event = try? JSONParser.parse(Array(payload)) else { return }
        usage = api.streamUsage(usage, after: event)
    }

    private func containsUsage(_ payload: ArraySlice<UInt8>) -> Bool {
        let needle = Array("\"usage\"".utf8)
        guard payload.count >= needle.count else { return false }
        var index = payload.startIndex
        while index <= payload.endIndex - needle.count {
            if payload[index] == needle[0], payload[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
