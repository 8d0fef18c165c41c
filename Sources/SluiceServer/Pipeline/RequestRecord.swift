import SluiceCore

/// What is known about one request as it moves through the pipeline; becomes
/// its usage row at the end.
struct RequestRecord: Sendable {
    let receivedAt: ContinuousClock.Instant
    let timestamp: Double
    var route: String
    var keyID = "-"
    var model: String?
    var streaming = false
    var status = 0
    var cacheOutcome = CacheOutcome.none
    var usage: TokenUsage?
    var saved: TokenUsage?
    var upstreamDuration: Duration?
    var requestBytes: Int
    var errorCode: String?

    init(receivedAt: ContinuousClock.Instant, timestamp: Double, route: String, requestBytes: Int) {
        self.receivedAt = receivedAt
        self.timestamp = timestamp
        self.route = route
        self.requestBytes = requestBytes
    }

    /// The model tokens this request spent upstream, to settle its reservation:
    /// what the answer's `usage` says; nothing for an error answer, a failed
    /// call or a shared (coalesced) answer; the estimate for a successful
    /// answer that reports no usage (a stream without `include_usage`).
    func tokensSpentUpstream(estimate: Int) -> Int {
        guard cacheOutcome == .miss || cacheOutcome == .bypass else { return 0 }
        if let usage { return max(0, usage.totalTokens) }
        return (200..<300).contains(status) && errorCode == nil ? estimate : 0
    }

    func row(firstByteAt: ContinuousClock.Instant?, finishedAt: ContinuousClock.Instant, responseBytes: Int) -> UsageRecord {
        UsageRecord(
            timestamp: timestamp, keyID: keyID, model: model, route: route, streaming: streaming,
            status: status, cacheOutcome: cacheOutcome, usage: usage, saved: saved,
            firstByteLatencyMs: firstByteAt.map { ($0 - receivedAt).milliseconds },
            latencyMs: (finishedAt - receivedAt).milliseconds,
            upstreamLatencyMs: upstreamDuration?.milliseconds,
            requestBytes: requestBytes, responseBytes: responseBytes, errorCode: errorCode
        )
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
