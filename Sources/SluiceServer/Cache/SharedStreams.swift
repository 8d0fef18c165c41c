import NIOConcurrencyHelpers
import SluiceCore

/// The streams in flight that identical streamed requests may join, one per
/// `SharedStreams.Key` (see `SharedStream`).
final class SharedStreams: Sendable {
    /// A cache key alone is not enough: for chat, `stream_options` is outside
    /// the cache key, but a reader that asked for the usage chunk must get it
    /// and one that did not must not.
    struct Key: Hashable, Sendable {
        var cacheKey: CacheKey
        var includeUsage: Bool
    }

    private let flights = NIOLockedValueBox<[Key: SharedStream]>([:])
    private let retainLimit: Int
    private let lagLimit: Int

    /// - Parameters:
    ///   - retainLimit: bytes kept for late joiners (see `SharedStream`).
    ///   - lagLimit: bytes the slowest reader may fall behind before the upstream read waits.
    init(retainLimit: Int, lagLimit: Int) {
        self.retainLimit = retainLimit
        self.lagLimit = lagLimit
    }

    /// Joins the stream in flight for `key`, or opens a new one. A caller given
    /// `opened` must start it (`SharedStream.start(_:)`) and remove it at its end.
    func join(_ key: Key) -> (subscription: Subscription, opened: SharedStream?) {
        flights.withLockedValue { flights in
            if let subscription = flights[key]?.subscribe() {
                return (subscription, nil)
            }
            let stream = SharedStream(retainLimit: retainLimit, lagLimit: lagLimit)
            flights[key] = stream
            // A new stream takes its first subscriber.
            return (stream.subscribe()!, stream)
        }
    }

    /// A stream nobody else may join (`Cache-Control: no-cache`); start it as with `join(_:)`.
    func openUnshared() -> (subscription: Subscription, opened: SharedStream) {
        let stream = SharedStream(retainLimit: retainLimit, lagLimit: lagLimit)
        return (stream.subscribe()!, stream)
    }

    /// Forgets `stream` when it is still the one in flight for `key`.
    func remove(_ key: Key, _ stream: SharedStream) {
        flights.withLockedValue { flights in
            if flights[key] === stream { flights[key] = nil }
        }
    }

    /// Keys with a stream in flight.
    var inFlightCount: Int { flights.withLockedValue { $0.count } }
}
