/// What one config file says. Sections the file leaves out hold their defaults.
public struct ConfigFile: Sendable, Equatable {
    /// The top-level scalars, which flags and environment variables can override.
    public var settings: SettingsLayer
    public var cache: CacheSettings
    public var limits: LimitSettings
    /// `nil` when the file has no `keys` list (pass-through mode).
    public var keys: [ClientKeyEntry]?
    public var usage: UsageSettings
    public var budgets = BudgetSettings()

    public init(
        settings: SettingsLayer = SettingsLayer(), cache: CacheSettings = CacheSettings(),
        limits: LimitSettings = LimitSettings(), keys: [ClientKeyEntry]? = nil, usage: UsageSettings = UsageSettings()
    ) {
        self.settings = settings
        self.cache = cache
        self.limits = limits
        self.keys = keys
        self.usage = usage
    }

    /// Reads the YAML text of a config file. An empty file gives all defaults.
    ///
    /// Errors name the key path (`cache.ttl`, `keys[2].sha256`) but not the file;
    /// the caller adds that.
    public static func parse(yaml text: String) throws(ConfigError) -> ConfigFile {
        try ConfigFileParser.parse(yaml: text)
    }
}
