/// Budget spend per client key in UTC days and months, kept where every
/// daemon sharing it sees what the others added.
///
/// Windows are those of `SpendLedger.start(of:at:)`: a cost counts in the day
/// and the month containing the time it is added at.
public protocol SpendStorage: Sendable {
    /// Adds each amount to its key's day and month.
    func addSpend(_ amounts: [SpendAmount]) async throws

    /// The spend of `keyID` in the day and the month containing `time` (unix seconds).
    func spend(forKey keyID: String, at time: Double) async throws -> SpendTotals

    /// The spend of every key with any in the day or the month containing
    /// `time`, e.g. to seed the daemon's ledger at start.
    func spendOfEveryKey(at time: Double) async throws -> [String: SpendTotals]
}

/// A cost to count against a key's budget.
public struct SpendAmount: Sendable, Equatable {
    public var keyID: String
    /// USD.
    public var usd: Double
    /// Unix seconds: picks the day and month it counts in (the request's arrival).
    public var time: Double

    public init(keyID: String, usd: Double, time: Double) {
        self.keyID = keyID
        self.usd = usd
        self.time = time
    }
}

/// A key's spend in USD in one UTC day and month.
public struct SpendTotals: Sendable, Equatable {
    public var day: Double
    public var month: Double

    public init(day: Double, month: Double) {
        self.day = day
        self.month = month
    }
}
