/// Reads the `budgets` section: `default` and per-key-id `keys`, each with
/// `usd_per_day` and `usd_per_month` (UTC windows).
///
/// A per-key entry starts from the default, so it only needs what it changes;
/// key ids are checked as in `limits`.
enum BudgetsParser {
    static let fieldNames = ["usd_per_day", "usd_per_month"]

    /// - Parameter keyNames: the names in the file's `keys` list, or `nil` in pass-through mode.
    static func parse(_ node: ConfigNode, keyNames: Set<String>?) throws(ConfigError) -> BudgetSettings {
        var budgets = BudgetSettings()
        let sections = try node.entries(allowedKeys: ["default", "keys"])
        if let defaultNode = sections.first(where: { $0.key == "default" })?.value {
            budgets.default = try budget(defaultNode, startingFrom: budgets.default)
        }
        guard let keysNode = sections.first(where: { $0.key == "keys" })?.value else { return budgets }
        for (id, entry) in try keysNode.entries() {
            let keyID = try LimitsParser.checkedKeyID(id, at: entry, keyNames: keyNames)
            guard budgets.keys[keyID] == nil else { throw entry.failure("a budget for this key id is already given") }
            budgets.keys[keyID] = try budget(entry, startingFrom: budgets.default)
        }
        return budgets
    }

    private static func budget(_ node: ConfigNode, startingFrom base: Budget) throws(ConfigError) -> Budget {
        var budget = base
        for (field, child) in try node.entries(allowedKeys: fieldNames) where !child.isNull {
            let usd = try child.value(dollars)
            switch field {
            case "usd_per_day": budget.usdPerDay = usd
            case "usd_per_month": budget.usdPerMonth = usd
            default: break  // `entries(allowedKeys:)` has rejected anything else.
            }
        }
        return budget
    }

    /// A non-negative amount of US dollars, at most `SettingBounds.budgetUSD`.
    private static func dollars(_ text: String) throws(ConfigError) -> Double {
        let trimmed = text.trimmingWhitespace.filter { $0 != "_" }
        guard let value = Double(trimmed), value.isFinite, !trimmed.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not an amount of US dollars")
        }
        return try SettingBounds.check(value, in: SettingBounds.budgetUSD, text)
    }
}
