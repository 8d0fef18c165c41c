import NIOCore
import NIOHTTP1
import SluiceCore

/// An answer relayed to the client as it arrives: straight from upstream
/// (`UpstreamBodyStream`) or from a stream shared by identical requests
/// (`SharedStreamBody`).
protocol RelayedBody {
    var status: HTTPResponseStatus { get }
    var headers: HTTPHeaders { get }
    /// When this request's own upstream call started; nil when it reads a call
    /// made for another request (its duration is theirs).
    var upstreamCallStarted: ContinuousClock.Instant? { get }
    /// The usage the answer reported so far.
    var usage: TokenUsage? { get }
    /// The next part of the body, or nil at its normal end.
    mutating func next() async throws -> ByteBuffer?
}

extension UpstreamBodyStream: RelayedBody {
    var upstreamCallStarted: ContinuousClock.Instant? { started }
    var usage: TokenUsage? { usageScanner.usage }
}
