/// Spend caps in USD for one client key, per UTC day and per UTC month; `nil`
/// means no cap in that window.
public struct Budget: Sendable, Equatable {
    public var usdPerDay: Double?
    public var usdPerMonth: Double?

    public init(usdPerDay: Double? = nil, usdPerMonth: Double? = nil) {
        self.usdPerDay = usdPerDay
        self.usdPerMonth = usdPerMonth
    }

    /// Whether any cap applies.
    public var isCapped: Bool { usdPerDay != nil || usdPerMonth != nil }
}

/// The `budgets` section: a default for every key and per-key-id entries.
public struct BudgetSettings: Sendable, Equatable {
    public var `default`: Budget
    /// By key id (a configured key name, or 12 hex digits of a key's SHA-256).
    public var keys: [String: Budget]

    public init(default: Budget = Budget(), keys: [String: Budget] = [:]) {
        self.default = `default`
        self.keys = keys
    }

    /// The caps that apply to `keyID`: its own entry (which starts from the
    /// default, so it lists only what it changes), else the default.
    public func budget(for keyID: String) -> Budget {
        keys[keyID] ?? self.default
    }

    /// Whether any key has a cap.
    public var isEmpty: Bool { !self.default.isCapped && keys.values.allSatisfy { !$0.isCapped } }
}
