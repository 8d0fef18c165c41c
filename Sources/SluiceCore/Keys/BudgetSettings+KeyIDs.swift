extension BudgetSettings {
    /// Budgets as the daemon looks them up, by the key ids clients get.
    ///
    /// In keys mode a configured client is known by its name, but `budgets.keys`
    /// may name it by the 12 hex digits of its SHA-256 instead; such entries are
    /// moved to the name. An entry written under the name itself wins (as for limits).
    public func resolvingKeyIDs(of entries: [ClientKeyEntry]?) -> BudgetSettings {
        guard let entries else { return self }
        var resolved = self
        for entry in entries {
            let hexID = entry.hashedKeyID
            guard hexID != entry.name, let budget = keys[hexID] else { continue }
            resolved.keys.removeValue(forKey: hexID)
            if keys[entry.name] == nil {
                resolved.keys[entry.name] = budget
            }
        }
        return resolved
    }
}
