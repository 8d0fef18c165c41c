/// Spend in USD per client key id in the current UTC day and UTC month, plus
/// the worst-case cost *reserved* by requests still upstream: decides whether
/// a request fits the key's `Budget`.
///
/// Pure and clock-free: every call is given the time, in seconds since 1970
/// (UTC). The daemon keeps one behind a lock (`BudgetGuard`) and seeds it at
/// start from the usage rows of the current day and month.
///
/// Rules:
/// - A request is refused when, in a capped window, `spent + reserved` has
///   reached the cap, or when its worst case is known and
///   `spent + reserved + worstCase` would pass the cap. An unknown worst case
///   (no prices for the model) counts as 0.
/// - Overshoot bound: with prices known, admitted requests together can cost
///   more than the cap only by their estimate error (actual − worst case). Without
///   prices, a window can end over its cap by at most the cost of the requests
///   that were already in flight when its spend crossed it.
/// - A request's actual cost counts in the day and month it was admitted in
///   (usage rows are dated by arrival too); windows roll over at 00:00 UTC and
///   on the 1st of the month, with nothing carried over.
public struct SpendLedger: Sendable, Equatable {
    /// One window's bookkeeping for one key.
    struct Window: Sendable, Equatable {
        /// Start of the window (UTC seconds); spend and reservations belong to it.
        var start: Double
        var spent = 0.0
        var reserved = 0.0
        /// Requests admitted in this window and not yet settled.
        var inFlight = 0

        mutating func roll(to start: Double) {
            guard start != self.start else { return }
            self = Window(start: start)
        }

        var isIdle: Bool { spent == 0 && reserved == 0 && inFlight == 0 }
    }

    struct Account: Sendable, Equatable {
        var day: Window
        var month: Window
    }

    private(set) var accounts: [String: Account] = [:]

    public init() {}

    /// What `admit` decided.
    public enum Decision: Sendable, Equatable {
        case allowed(BudgetReservation)
        /// `cap` is the window that refused; `resetsAt` its end (UTC seconds).
        case refused(cap: BudgetCap, resetsAt: Double, spent: Double, worstCase: Double?)
    }

    /// Decides on one request of `keyID` with the given worst-case cost (nil: unknown).
    /// An allowed request reserves its worst case until `settle`.
    public mutating func admit(keyID: String, worstCase: Double?, budget: Budget, now: Double) -> Decision {
        var account = rolled(keyID, now: now)
        let cost = max(0, worstCase ?? 0)
        // The month is checked first: when both are spent, the month's later reset is the one that matters.
        let windows: [(BudgetWindow, Double?, Window)] = [(.month, budget.usdPerMonth, account.month), (.day, budget.usdPerDay, account.day)]
        for (window, cap, state) in windows {
            guard let cap else { continue }
            let committed = state.spent + state.reserved
            if committed >= cap || (worstCase != nil && committed + cost > cap) {
                accounts[keyID] = account
                return .refused(
                    cap: BudgetCap(window: window, usd: cap), resetsAt: Self.end(of: window, at: now),
                    spent: committed, worstCase: worstCase)
            }
        }
        account.day.reserved += cost
        account.month.reserved += cost
        account.day.inFlight += 1
        account.month.inFlight += 1
        accounts[keyID] = account
        return .allowed(BudgetReservation(keyID: keyID, usd: cost, dayStart: account.day.start, monthStart: account.month.start))
    }

    /// Releases `reservation` and adds `actualCost` (nil: the upstream reported none, counted as 0)
    /// to the day and month the request was admitted in, if they are still current.
    public mutating func settle(_ reservation: BudgetReservation, actualCost: Double?, now: Double) {
        var account = rolled(reservation.keyID, now: now)
        let cost = max(0, actualCost ?? 0)
        if account.day.start == reservation.dayStart {
            account.day.reserved = max(0, account.day.reserved - reservation.usd)
            account.day.inFlight = max(0, account.day.inFlight - 1)
            account.day.spent += cost
        }
        if account.month.start == reservation.monthStart {
            account.month.reserved = max(0, account.month.reserved - reservation.usd)
            account.month.inFlight = max(0, account.month.inFlight - 1)
            account.month.spent += cost
        }
        if account.day.isIdle && account.month.isIdle {
            accounts[reservation.keyID] = nil
        } else {
            accounts[reservation.keyID] = account
        }
    }

    /// Sets the spend found in the usage rows at start (replacing what is kept for `keyID`).
    public mutating func seed(keyID: String, daySpend: Double, monthSpend: Double, now: Double) {
        var account = rolled(keyID, now: now)
        account.day.spent = max(0, daySpend)
        account.month.spent = max(0, monthSpend)
        accounts[keyID] = account
    }

    /// Raises the spend kept for `keyID` to what a fleet's database reports, where
    /// that is more (the other daemons' answers); never lowers it, so spend of
    /// this daemon's not yet in the database is kept.
    public mutating func raise(keyID: String, daySpend: Double, monthSpend: Double, now: Double) {
        var account = rolled(keyID, now: now)
        account.day.spent = max(account.day.spent, daySpend)
        account.month.spent = max(account.month.spent, monthSpend)
        accounts[keyID] = account
    }

    /// Spent plus reserved in the current day and month.
    public func committed(keyID: String, now: Double) -> (day: Double, month: Double) {
        guard let account = accounts[keyID] else { return (0, 0) }
        let day = account.day.start == Self.start(of: .day, at: now) ? account.day.spent + account.day.reserved : 0
        let month = account.month.start == Self.start(of: .month, at: now) ? account.month.spent + account.month.reserved : 0
        return (day, month)
    }

    /// Forgets keys with nothing spent or in flight in the current windows (keeps memory bounded).
    public mutating func dropIdle(now: Double) {
        for keyID in Array(accounts.keys) {
            let account = rolled(keyID, now: now)
            accounts[keyID] = account.day.isIdle && account.month.isIdle ? nil : account
        }
    }

    /// Number of keys kept.
    public var keyCount: Int { accounts.count }

    /// The key's account with its windows moved to the ones containing `now`.
    private func rolled(_ keyID: String, now: Double) -> Account {
        let dayStart = Self.start(of: .day, at: now)
        let monthStart = Self.start(of: .month, at: now)
        guard var account = accounts[keyID] else {
            return Account(day: Window(start: dayStart), month: Window(start: monthStart))
        }
        account.day.roll(to: dayStart)
        account.month.roll(to: monthStart)
        return account
    }

    // MARK: UTC windows

    /// The start of the UTC day or month containing `time` (seconds since 1970).
    public static func start(of window: BudgetWindow, at time: Double) -> Double {
        let days = Int((time / Double(UTCCalendar.secondsPerDay)).rounded(.down))
        switch window {
        case .day:
            return Double(days * UTCCalendar.secondsPerDay)
        case .month:
            let date = UTCCalendar.civilDate(daysSinceEpoch: days)
            return Double(UTCCalendar.daysSinceEpoch(year: date.year, month: date.month, day: 1) * UTCCalendar.secondsPerDay)
        }
    }

    /// The end (exclusive) of the UTC day or month containing `time`: when its spend resets.
    public static func end(of window: BudgetWindow, at time: Double) -> Double {
        let days = Int((time / Double(UTCCalendar.secondsPerDay)).rounded(.down))
        switch window {
        case .day:
            return Double((days + 1) * UTCCalendar.secondsPerDay)
        case .month:
            let date = UTCCalendar.civilDate(daysSinceEpoch: days)
            let (year, month) = date.month == 12 ? (date.year + 1, 1) : (date.year, date.month + 1)
            return Double(UTCCalendar.daysSinceEpoch(year: year, month: month, day: 1) * UTCCalendar.secondsPerDay)
        }
    }
}

/// A UTC budget window.
public enum BudgetWindow: String, Sendable, Equatable {
    case day
    case month

    /// "daily" / "monthly", for messages.
    public var adjective: String { self == .day ? "daily" : "monthly" }
}

/// One cap of a budget: its window and amount.
public struct BudgetCap: Sendable, Equatable {
    public var window: BudgetWindow
    public var usd: Double

    public init(window: BudgetWindow, usd: Double) {
        self.window = window
        self.usd = usd
    }
}

/// What an admitted request reserved from its key's budget, settled once its
/// actual cost is known (exactly once, at 0 when it never went upstream).
public struct BudgetReservation: Sendable, Equatable {
    public let keyID: String
    /// The worst-case cost reserved (0 when unknown).
    public let usd: Double
    /// The day and month it was admitted in (UTC seconds of their starts).
    public let dayStart: Double
    public let monthStart: Double

    public init(keyID: String, usd: Double, dayStart: Double, monthStart: Double) {
        self.keyID = keyID
        self.usd = usd
        self.dayStart = dayStart
        self.monthStart = monthStart
    }
}
