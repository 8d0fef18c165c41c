import SluiceCore

/// Watches an SSE stream go by and keeps the last `usage` it carries.
///
/// Only `data:` lines that mention `"usage"` are parsed, so a stream costs one
/// byte scan, not one JSON parse per chunk. The Vercel gateway puts `usage` on
/// the last content chunk; OpenAI on a final chunk with no choices; both work.
struct StreamUsageScanner {
    private(set) var usage: TokenUsage?
    private var line: [UInt8] = []
    /// A line longer than this is not a usage line worth keeping.
    private static let maximumLineBytes = 1 << 20

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
        // Chat and completions: `usage` on the event. Responses: on the final
        // `response`. Anthropic: input tokens on `message_start`'s message,
        // output tokens on `message_delta`, so a later usage without input
        // tokens keeps the ones seen before.
        let usageObject = event["usage"] ?? event["response"]?["usage"] ?? event["message"]?["usage"]
        guard var found = TokenUsage(usageObject: usageObject) else { return }
        if let earlier = usage, found.promptTokens == 0, earlier.promptTokens > 0, usageObject?["total_tokens"] == nil {
            found = TokenUsage(
                promptTokens: earlier.promptTokens, completionTokens: found.completionTokens,
                totalTokens: earlier.promptTokens + found.completionTokens, cost: found.cost ?? earlier.cost)
        }
        usage = found
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
