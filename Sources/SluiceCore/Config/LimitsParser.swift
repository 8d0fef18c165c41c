/// Reads the `limits` section: a `default` bucket and per-key-id overrides.
///
/// A per-key entry starts from the resolved default, so it only needs the
/// fields it changes. Rates may be 0; `burst` must then be at least 1 only
/// when `requests_per_minute` is above 0.
enum LimitsParser {
    static let fieldNames = ["requests_per_minute", "burst", "tokens_per_minute", "max_wait"]

    /// - Parameter keyNames: the names in the file's `keys` list, or `nil` in pass-through mode.
    static func parse(_ node: ConfigNode, keyNames: Set<String>?) throws(ConfigError) -> LimitSettings {
        var limits = LimitSettings()
        let sections = try node.entries(allowedKeys: ["default", "keys"])
        if let defaultNode = sections.first(where: { $0.key == "default" })?.value {
            limits.default = try rateLimit(defaultNode, startingFrom: limits.default)
        }
        guard let keysNode = sections.first(where: { $0.key == "keys" })?.value else { return limits }
        for (id, entry) in try keysNode.entries() {
            let keyID = try checkedKeyID(id, at: entry, keyNames: keyNames)
            guard limits.keys[keyID] == nil else { throw entry.failure("a limit for this key id is already given") }
            limits.keys[keyID] = try rateLimit(entry, startingFrom: limits.default)
        }
        return limits
    }

    private static func rateLimit(_ node: ConfigNode, startingFrom base: RateLimit) throws(ConfigError) -> RateLimit {
        var limit = base
        var burstNode: ConfigNode?
        for (field, child) in try node.entries(allowedKeys: fieldNames) where !child.isNull {
            switch field {
            case "requests_per_minute": limit.requestsPerMinute = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(rate(text), in: SettingBounds.requestsPerMinute, text)
                }
            case "burst":
                limit.burst = try child.value { (text) throws(ConfigError) in try SettingBounds.check(rate(text), in: SettingBounds.burst, text) }
                burstNode = child
            case "tokens_per_minute": limit.tokensPerMinute = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(rate(text), in: SettingBounds.tokensPerMinute, text)
                }
            case "max_wait": limit.maxWait = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.maxWait, text)
                }
            default: break  // `entries(allowedKeys:)` has rejected anything else.
            }
        }
        if limit.requestsPerMinute > 0, limit.burst < 1 {
            let problem = "burst must be at least 1 when requests_per_minute is more than 0"
            throw burstNode?.failure(problem) ?? node.failure(problem)
        }
        return limit
    }

    /// A key id is a configured key name or 12 hex digits of a key's SHA-256.
    static func checkedKeyID(_ id: String, at entry: ConfigNode, keyNames: Set<String>?) throws(ConfigError) -> String {
        if let keyNames, keyNames.contains(id) { return id }
        if id.count == ClientKeyEntry.hashedKeyIDLength, id.isHexDigits { return id.lowercased() }
        if keyNames != nil {
            throw entry.failure("no key has this name in keys, and it is not 12 hex digits of a key's SHA-256")
        }
        throw entry.failure("is not a key id (12 hex digits of a key's SHA-256; names need a keys list)")
    }

    /// A non-negative number; YAML-style `200_000` is accepted.
    private static func rate(_ text: String) throws(ConfigError) -> Double {
        let digits = String(text.trimmingWhitespace.filter { $0 != "_" })
        // Digits, a point and an exponent (`2e5`); not `inf` or `nan`.
        guard let value = Double(digits), value.isFinite, !digits.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not a number")
        }
        guard value >= 0 else { throw ConfigError("\(ConfigError.quoted(text)) must not be negative") }
        return value
    }
}
