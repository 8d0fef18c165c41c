extension LimitSettings {
    /// Limits as the rate limiter looks them up, by the key ids clients get.
    ///
    /// In keys mode a configured client is known by its name, but `limits.keys`
    /// may name it by the 12 hex digits of its SHA-256 instead; such entries are
    /// moved to the name. An entry written under the name itself wins.
    public func resolvingKeyIDs(of entries: [ClientKeyEntry]?) -> LimitSettings {
        guard let entries else { return self }
        var resolved = self
        for entry in entries {
            let hexID = entry.hashedKeyID
            guard hexID != entry.name, let limit = keys[hexID] else { continue }
            resolved.keys.removeValue(forKey: hexID)
            if keys[entry.name] == nil {
                resolved.keys[entry.name] = limit
            }
        }
        return resolved
    }

    /// The `limits.keys` entries that no client can ever be known by, sorted
    /// (for `config check` to warn about): in keys mode, neither a configured
    /// name nor one's hex id; in pass-through mode, neither a 12-hex key id nor
    /// `default`.
    public func unreachableKeyIDs(given entries: [ClientKeyEntry]?) -> [String] {
        let isReachable: (String) -> Bool
        if let entries {
            let known = Set(entries.flatMap { [$0.name, $0.hashedKeyID] })
            isReachable = { known.contains($0) }
        } else {
            isReachable = { KeyID.isHexID($0) || $0 == KeyID.anonymous }
        }
        return keys.keys.filter { !isReachable($0) }.sorted()
    }
}
