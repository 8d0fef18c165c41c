import NIOConcurrencyHelpers
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Fleet mode: budgets count what every daemon spent. Each settled cost is
/// queued here (`add`), and every `interval` the queue goes to the shared
/// database and each key's spend is read back and raised in the local ledger
/// (`BudgetGuard.raise`). While the database is unreachable the queue waits
/// (bounded: costs of one key and window are summed) and budgets count this
/// daemon's spend only; that is logged and counted like any failure.
final class FleetSpendService: Service, Sendable {
    private let spend: any SpendStorage
    private let budgets: BudgetGuard
    private let clock: any WallClock
    private let health: HealthMonitor
    private let interval: Duration
    private let pending = NIOLockedValueBox<[PendingKey: Double]>([:])
    /// Distinct (key, day) sums kept while the database is away; more are dropped (and counted).
    static let pendingLimit = 100_000

    private struct PendingKey: Hashable {
        var keyID: String
        /// The UTC day the cost counts in (its month follows from it).
        var dayStart: Double
    }

    init(spend: any SpendStorage, budgets: BudgetGuard, clock: any WallClock, health: HealthMonitor, interval: Duration = .seconds(1)) {
        self.spend = spend
        self.budgets = budgets
        self.clock = clock
        self.health = health
        self.interval = interval
    }

    /// Queues a settled cost (called by `BudgetGuard`).
    func add(_ amount: SpendAmount) {
        let key = PendingKey(keyID: amount.keyID, dayStart: SpendLedger.start(of: .day, at: amount.time))
        let dropped = pending.withLockedValue { pending -> Bool in
            guard pending[key] != nil || pending.count < Self.pendingLimit else { return true }
            pending[key, default: 0] += amount.usd
            return false
        }
        if dropped { health.failed(.sharedSpend, error: "spend queue full: a cost was not shared") }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await exchange()
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        await exchange()
    }

    /// Writes the queued costs, then reads every key's spend back.
    func exchange() async {
        let batch = pending.withLockedValue { pending in
            defer { pending = [:] }
            return pending
        }
        do {
            if !batch.isEmpty {
                try await spend.addSpend(batch.map { SpendAmount(keyID: $0.key.keyID, usd: $0.value, time: $0.key.dayStart) })
            }
            let totals = try await spend.spendOfEveryKey(at: clock.now())
            budgets.raise(spend: totals.mapValues { (day: $0.day, month: $0.month) })
            health.succeeded(.sharedSpend)
        } catch {
            // Put the batch back for the next round.
            pending.withLockedValue { pending in
                for (key, usd) in batch { pending[key, default: 0] += usd }
            }
            health.failed(.sharedSpend, error: error)
        }
    }
}
