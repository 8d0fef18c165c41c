import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SluiceCore

/// Keeps the gateway's model prices (`GET /models`, `pricing.input`/`output`
/// in USD per token) for budget worst-case estimates: fetched with the daemon's
/// credential at start and every `refreshInterval`, only while budgets are
/// configured (a SIGHUP that adds some is noticed within `checkInterval`).
///
/// Failure is tolerated: the last prices stay in use (none at first, so the
/// worst case is unknown), a warning is logged and the fetch is retried after
/// `retryInterval`.
struct ModelPricesService: Service {
    let upstream: UpstreamClient
    let budgets: BudgetGuard
    let logger: Logger
    var refreshInterval = Duration.seconds(3600)
    var retryInterval = Duration.seconds(60)
    var checkInterval = Duration.seconds(5)
    /// How long one fetch may take.
    var timeout = Duration.seconds(10)

    func run() async throws {
        var lastAttempt: ContinuousClock.Instant?
        var lastFailed = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let due = lastAttempt.map { .now - $0 >= (lastFailed ? retryInterval : refreshInterval) } ?? true
            if due, budgets.hasBudgets {
                lastAttempt = .now
                // A fetch in progress does not hold up a graceful shutdown.
                let fetched = await cancelWhenGracefulShutdown { await refresh() }
                lastFailed = !fetched
            }
            do {
                try await cancelWhenGracefulShutdown { [checkInterval] in try await Task.sleep(for: checkInterval) }
            } catch {
                break
            }
        }
    }

    /// Fetches and applies the prices once; returns whether it worked.
    func refresh() async -> Bool {
        guard let bearer = upstream.identity.credential?.secret else {
            logger.warning("model prices not fetched: the daemon has no upstream credential; budget worst cases are unknown")
            return false
        }
        var headers = HTTPHeaders()
        headers.add(name: "accept", value: "application/json")
        let request = UpstreamRequest(method: .GET, pathAndQuery: "/models", headers: headers, body: ByteBuffer(), bearer: bearer)
        do {
            let outcome = try await withTimeout { [upstream] () async throws -> FetchOutcome in
                switch try await upstream.fetch(request, upTo: Self.maxBodyBytes) {
                case .whole(let answer):
                    guard answer.status == .ok else { return .unusable("status \(answer.status.code)") }
                    guard let prices = ModelPrices.parse(Array(answer.body.readableBytesView)) else {
                        return .unusable("not a list of models")
                    }
                    return .prices(prices)
                case .oversized:
                    return .unusable("larger than \(Self.maxBodyBytes) bytes")
                }
            }
            switch outcome {
            case .prices(let prices):
                budgets.replace(prices: prices)
                logger.info("model prices loaded", metadata: ["models": "\(prices.byModel.count)"])
                return true
            case .unusable(let reason):
                logger.warning("model prices not fetched: the upstream's /models answer is unusable", metadata: ["reason": "\(reason)"])
                return false
            }
        } catch {
            logger.warning("model prices not fetched", metadata: ["error": "\(error)"])
            return false
        }
    }

    private enum FetchOutcome: Sendable {
        case prices(ModelPrices)
        case unusable(String)
    }

    static let maxBodyBytes = 16 << 20

    private struct TimedOut: Error, CustomStringConvertible {
        var description: String { "no answer in time" }
    }

    private func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask { [timeout] in
                try await Task.sleep(for: timeout)
                throw TimedOut()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TimedOut() }
            return first
        }
    }
}
