/// How the fake gateway answers. A test sets it on the gateway; a request can
/// also pick a fault through its model name (see `FakeGatewayFault.init(model:)`).
struct FakeGatewayBehavior: Sendable {
    /// Content chunks in a streamed answer (before `data: [DONE]`).
    var streamChunkCount = 3
    /// Pause before each content chunk after the first.
    var streamChunkDelay: Duration = .zero
    /// Bytes of SSE comment (`: xxx…`) sent after each content chunk, for a
    /// large stream (a client that stops reading then fills the socket buffers).
    var streamChunkPadding = 0
    /// A fault applied to every request, whatever its model says.
    var fault: FakeGatewayFault?
    /// The usage every answer reports.
    var usage = FakeUsage.standard
    /// The `pricing` of every model in `GET /v1/models` (USD per token, as
    /// decimal strings); nil lists the models without prices.
    var pricing: FakePricing? = .standard
}

/// A model's `pricing` in `GET /v1/models`, as the Vercel gateway lists it.
struct FakePricing: Sendable, Equatable {
    var input: String
    var output: String

    static let standard = FakePricing(input: "0.00000015", output: "0.0000006")
}

/// A way for the fake gateway to misbehave.
enum FakeGatewayFault: Sendable, Equatable {
    /// Answer with this status and Vercel's error body.
    case status(Int)
    /// Wait this long, then answer normally.
    case slow(Duration)
    /// Send the head and part of the body, then close the connection.
    case drop
    /// Send the head and part of the body, wait this long, then close the connection.
    case dropAfter(Duration)
    /// Send the head, then nothing until the peer goes away.
    case stall

    /// The fault a magic model name asks for: `fail-500`, `error-401`,
    /// `slow-2s`, `slow-300ms`, `drop`, `stall`; `nil` for an ordinary model.
    init?(model: String) {
        switch model {
        case "drop": self = .drop
        case "stall": self = .stall
        default:
            if let code = Self.statusCode(in: model) {
                self = .status(code)
            } else if let delay = Self.delay(in: model) {
                self = .slow(delay)
            } else {
                return nil
            }
        }
    }

    private static func statusCode(in model: String) -> Int? {
        for prefix in ["fail-", "error-"] where model.hasPrefix(prefix) {
            if let code = Int(model.dropFirst(prefix.count)), (400..<600).contains(code) {
                return code
            }
        }
        return nil
    }

    private static func delay(in model: String) -> Duration? {
        guard model.hasPrefix("slow-") else { return nil }
        let amount = model.dropFirst("slow-".count)
        if amount.hasSuffix("ms"), let millis = Int(amount.dropLast(2)) {
            return .milliseconds(millis)
        }
        if amount.hasSuffix("s"), let seconds = Int(amount.dropLast()) {
            return .seconds(seconds)
        }
        return nil
    }
}

/// The `usage` object of an answer, as the Vercel gateway reports it.
struct FakeUsage: Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var cachedTokens: Int
    /// USD.
    var cost: Double

    var totalTokens: Int { promptTokens + completionTokens }

    static let standard = FakeUsage(promptTokens: 12, completionTokens: 7, cachedTokens: 3, cost: 0.000245)
}
