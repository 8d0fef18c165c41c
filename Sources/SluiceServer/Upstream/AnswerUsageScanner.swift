import NIOCore
import SluiceCore

/// Reads `usage` from an upstream answer as its bytes go by, whichever way it
/// is framed: server-sent events (the last `usage` an event carries) or one
/// JSON document (its top-level `usage`), without holding the answer. The
/// answer's API reads the numbers; answers of other routes are read with
/// OpenAI's names.
struct AnswerUsageScanner: Sendable {
    private let api: any LLMAPI
    private enum Framing: Sendable {
        case events(StreamUsageScanner)
        case document(JSONUsageScanner)
    }

    private var framing: Framing

    /// - Parameters:
    ///   - contentType: the answer's `content-type`; `text/event-stream` means events.
    ///   - api: the model API that answers; nil for other routes.
    init(contentType: String?, api: (any LLMAPI)?) {
        let api = api ?? ChatCompletionsAPI()
        self.api = api
        let isEvents = contentType?.lowercased().hasPrefix("text/event-stream") ?? false
        framing = isEvents ? .events(StreamUsageScanner(api: api)) : .document(JSONUsageScanner())
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
        case .document(let scanner): scanner.usageObject.flatMap(api.usage(from:))
        }
    }
}
