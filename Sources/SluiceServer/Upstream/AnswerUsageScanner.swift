import NIOCore
import SluiceCore

/// Reads `usage` from an upstream answer as its bytes go by, whichever way it
/// is framed: server-sent events (the last `usage` an event carries) or one
/// JSON document (its top-level `usage`), without holding the answer.
struct AnswerUsageScanner: Sendable {
    private enum Framing: Sendable {
        case events(StreamUsageScanner)
        case document(JSONUsageScanner)
    }

    private var framing: Framing

    /// - Parameter contentType: the answer's `content-type`; `text/event-stream` means events.
    init(contentType: String?) {
        let isEvents = contentType?.lowercased().hasPrefix("text/event-stream") ?? false
        framing = isEvents ? .events(StreamUsageScanner()) : .document(JSONUsageScanner())
    }

    mutating func consume(_ chunk: ByteBuffer) {
        switch framing {
        case .events(var scanner):
            scanner.consume(chunk.readableBytesView)
            framing = .events(scanner)
        case .document(var scanner):
            chunk.withUnsafeReadableBytes { scanner.consume($0) }
            framing = .document(scanner)
        }
    }

    var usage: TokenUsage? {
        switch framing {
        case .events(let scanner): scanner.usage
        case .document(let scanner): scanner.usage
        }
    }
}
