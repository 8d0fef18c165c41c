internal import Yams

/// Walks the YAML tree of a config file against the schema of the contract's
/// "Settings" section. Unknown keys are errors.
enum ConfigFileParser {
    static let topLevelKeys = SettingName.allCases.map(\.rawValue) + ["cache", "limits", "keys", "usage", "budgets"]

    static func parse(yaml text: String) throws(ConfigError) -> ConfigFile {
        guard let root = try compose(text) else { return ConfigFile() }
        var file = ConfigFile()
        var limitsNode: ConfigNode?
        var budgetsNode: ConfigNode?
        for (key, node) in try root.entries(allowedKeys: topLevelKeys) where !node.isNull {
            if let setting = SettingName(rawValue: key) {
                let set = { (text: String) throws(ConfigError) in try file.settings.set(setting, from: text) }
                if setting == .allowedHosts || setting == .allowedOrigins {
                    try node.listOrValue(set)
                } else {
                    try node.value(set)
                }
                continue
            }
            switch key {
            case "cache": file.cache = try cache(node)
            case "limits": limitsNode = node
            case "keys": file.keys = try ClientKeysParser.parse(node)
            case "usage": file.usage = try usage(node)
            case "budgets": budgetsNode = node
            default: break  // `entries(allowedKeys:)` has rejected anything else.
            }
        }
        // Limits and budgets last: their key ids are checked against the names in `keys`.
        if let limitsNode {
            file.limits = try LimitsParser.parse(limitsNode, keyNames: file.keys.map { Set($0.map(\.name)) })
        }
        if let budgetsNode {
            file.budgets = try BudgetsParser.parse(budgetsNode, keyNames: file.keys.map { Set($0.map(\.name)) })
        }
        return file
    }

    private static func cache(_ node: ConfigNode) throws(ConfigError) -> CacheSettings {
        var cache = CacheSettings()
        for (key, child) in try node.entries(allowedKeys: ["ttl", "scope", "max_size", "stale_if_error"]) where !child.isNull {
            switch key {
            case "ttl": cache.ttl = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.cacheTTL, text)
                }
            case "max_size": cache.maxSizeBytes = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(ByteSizeParser.parse(text), in: SettingBounds.cacheMaxSizeBytes, text, size: true)
                }
            case "scope": cache.scope = try child.value(scope)
            case "stale_if_error": cache.staleIfError = try child.value { (text) throws(ConfigError) in
                    try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.staleIfError, text)
                }
            default: break  // `entries(allowedKeys:)` has rejected anything else.
            }
        }
        return cache
    }

    private static func scope(_ text: String) throws(ConfigError) -> CacheSettings.Scope {
        guard let scope = CacheSettings.Scope(rawValue: text) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not key or shared")
        }
        return scope
    }

    private static func usage(_ node: ConfigNode) throws(ConfigError) -> UsageSettings {
        var usage = UsageSettings()
        for (_, child) in try node.entries(allowedKeys: ["retention"]) where !child.isNull {
            usage.retention = try child.value { (text: String) throws(ConfigError) -> Duration in
                try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.usageRetention, text)
            }
        }
        return usage
    }

    /// The root node, or `nil` for an empty file (or one holding only comments).
    private static func compose(_ text: String) throws(ConfigError) -> ConfigNode? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw YAMLSyntaxError.describe(error)
        }
        guard let node else { return nil }
        let root = ConfigNode(node: node, path: "")
        return root.isNull ? nil : root
    }
}
