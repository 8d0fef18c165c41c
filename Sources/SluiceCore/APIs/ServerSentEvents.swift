/// One server-sent event: its `event:` name (nil when absent) and its `data:`
/// lines joined by newlines.
public struct ServerSentEvent: Sendable, Equatable {
    public var name: String?
    public var data: [UInt8]

    public init(name: String?, data: [UInt8]) {
        self.name = name
        self.data = data
    }

    /// `data: [DONE]`, OpenAI's end of stream.
    public var isDone: Bool { data.elementsEqual("[DONE]".utf8) }

    /// The event as written on the wire, ending in a blank line.
    public var bytes: [UInt8] {
        var output: [UInt8] = []
        if let name { output += Array("event: \(name)\n".utf8) }
        output += Array("data: ".utf8) + data + Array("\n\n".utf8)
        return output
    }
}

/// Splits a `text/event-stream` body into events (the WHATWG rules Sluice
/// needs: `\n` or `\r\n` line ends, a blank line ends an event, `:` comments
/// and `id:`/`retry:` fields are skipped).
public enum ServerSentEvents {
    public static func parse(_ bytes: [UInt8]) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var name: String?
        var data: [UInt8]?
        var lineStart = 0
        func finishEvent() {
            if let data { events.append(ServerSentEvent(name: name, data: data)) }
            name = nil
            data = nil
        }
        var index = 0
        while index <= bytes.count {
            guard index == bytes.count || bytes[index] == UInt8(ascii: "\n") else {
                index += 1
                continue
            }
            var line = bytes[lineStart..<index]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty {
                if index < bytes.count { finishEvent() }
            } else if line.first != UInt8(ascii: ":") {
                let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
                let field = line[line.startIndex..<colon]
                var value = colon < line.endIndex ? line[(colon + 1)...] : []
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                if field.elementsEqual("data".utf8) {
                    data = data.map { $0 + [UInt8(ascii: "\n")] + value } ?? Array(value)
                } else if field.elementsEqual("event".utf8) {
                    name = String(decoding: value, as: UTF8.self)
                }
            }
            index += 1
            lineStart = index
        }
        return events
    }
}
