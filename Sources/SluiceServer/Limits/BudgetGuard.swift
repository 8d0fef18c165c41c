import NIOConcurrencyHelpers
import SluiceCore
import SluiceStore
import Synchronization

/// USD spend caps per client key id (see `SpendLedger` for the rules), shared
/// by every request the daemon serves.
///
/// The in-memory ledger is the source of truth while the daemon runs (usage
/// rows reach SQLite in batches); it is seeded from the rows at start, and a
/// SIGHUP swaps the caps but keeps the spend. Spend is kept for every key,
/// capped or not, so a cap added by a reload counts what was spent before it.
final class BudgetGuard: Sendable {
    private struct State {
        var budgets: BudgetSettings
        var ledger = SpendLedger()
        var lastSweepDay = 0.0
    }

    private let state: Mutex<State>
    private let prices = NIOLockedValueBox<ModelPrices?>(nil)
    private let clock: any WallClock
    /// Fleet mode: where each settled cost goes, to be shared (`FleetSpendService`).
    private let spendSink = NIOLockedValueBox<(@Sendable (SpendAmount) -> Void)?>(nil)

    /// - Parameter budgets: caps by key id; give `BudgetSettings.resolvingKeyIDs(of:)` in keys mode.
    init(budgets: BudgetSettings, clock: any WallClock) {
        self.state = Mutex(State(budgets: budgets))
        self.clock = clock
    }

    /// What a request was told.
    enum Decision: Sendable {
        /// Within budget (or no cap applies); settle it once the cost is known.
        case allowed(BudgetReservation)
        case refused(SluiceError)
    }

    /// Reserves `keyID`'s worst case for a request to `model` with a body of
    /// `bodyBytes` bytes and `maxTokens`, or refuses it (429 `insufficient_quota`).
    func admit(keyID: String, model: String?, bodyBytes: Int, maxTokens: Int?) -> Decision {
        let worstCase = prices.withLockedValue { $0 }?.worstCase(model: model, bodyBytes: bodyBytes, maxTokens: maxTokens)
        let now = clock.now()
        let decision = state.withLock { state in
            state.ledger.admit(keyID: keyID, worstCase: worstCase, budget: state.budgets.budget(for: keyID), now: now)
        }
        switch decision {
        case .allowed(let reservation):
            return .allowed(reservation)
        case .refused(let cap, let resetsAt, let spent, let worstCase):
            let retryAfter = Int((resetsAt - now).rounded(.up))
            return .refused(.budgetExhausted(
                cap: cap, resetsAt: resetsAt, spent: spent, worstCase: worstCase, retryAfterSeconds: retryAfter))
        }
    }

    /// Releases `reservation` and counts `actualCost` (USD; nil counts as 0).
    /// Returns what is left of the key's caps, for the gauges (nil: not capped).
    @discardableResult
    func settle(_ reservation: BudgetReservation, actualCost: Double?) -> (day: Double?, month: Double?) {
        let now = clock.now()
        if let actualCost, actualCost.isFinite, actualCost > 0, let sink = spendSink.withLockedValue({ $0 }) {
            sink(SpendAmount(keyID: reservation.keyID, usd: actualCost, time: now))
        }
        return state.withLock { state in
            state.ledger.settle(reservation, actualCost: actualCost, now: now)
            let today = SpendLedger.start(of: .day, at: now)
            if today != state.lastSweepDay {
                state.lastSweepDay = today
                state.ledger.dropIdle(now: now)
            }
            let budget = state.budgets.budget(for: reservation.keyID)
            let committed = state.ledger.committed(keyID: reservation.keyID, now: now)
            return (budget.usdPerDay.map { max(0, $0 - committed.day) }, budget.usdPerMonth.map { max(0, $0 - committed.month) })
        }
    }

    /// Sets the spend read from the usage rows at start.
    func seed(daySpend: [String: Double], monthSpend: [String: Double]) {
        let now = clock.now()
        state.withLock { state in
            for keyID in Set(daySpend.keys).union(monthSpend.keys) {
                state.ledger.seed(keyID: keyID, daySpend: daySpend[keyID] ?? 0, monthSpend: monthSpend[keyID] ?? 0, now: now)
            }
        }
    }

    /// Sends every settled cost to `sink` from now on (fleet mode).
    func sendSpend(to sink: @escaping @Sendable (SpendAmount) -> Void) {
        spendSink.withLockedValue { $0 = sink }
    }

    /// Raises each key's spend to what the fleet's database reports (see `SpendLedger.raise`).
    func raise(spend: [String: (day: Double, month: Double)]) {
        let now = clock.now()
        state.withLock { state in
            for (keyID, totals) in spend {
                state.ledger.raise(keyID: keyID, daySpend: totals.day, monthSpend: totals.month, now: now)
            }
        }
    }

    /// Applies reloaded caps (SIGHUP); spend and reservations are kept.
    func replace(budgets: BudgetSettings) {
        state.withLock { $0.budgets = budgets }
    }

    /// Whether any cap is configured (model prices are only fetched then).
    var hasBudgets: Bool { state.withLock { !$0.budgets.isEmpty } }

    /// Uses freshly fetched model prices for worst-case estimates from now on.
    func replace(prices newPrices: ModelPrices) {
        prices.withLockedValue { $0 = newPrices }
    }

    var currentPrices: ModelPrices? { prices.withLockedValue { $0 } }

    /// Spent plus reserved for `keyID` in the current day and month.
    func committed(keyID: String) -> (day: Double, month: Double) {
        let now = clock.now()
        return state.withLock { $0.ledger.committed(keyID: keyID, now: now) }
    }
}
