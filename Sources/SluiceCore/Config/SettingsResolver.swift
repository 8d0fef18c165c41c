/// Computes the effective settings: flag beats environment beats config file
/// beats default, for every top-level setting.
///
/// Pure: it is handed the file's text, the environment and the flag values, and
/// can be called again with fresh file text (e.g. on `SIGHUP`). Every value
/// given anywhere is checked, even one that a higher source overrides.
public enum SettingsResolver {
    /// A config file's path (for messages) and its text.
    public struct FileText: Sendable, Equatable {
        public var path: String
        public var text: String

        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    /// The effective settings and, for each top-level setting, where its value came from.
    public struct Resolution: Sendable, Equatable {
        public var settings: Settings
        public var origins: [SettingName: SettingOrigin]
    }

    /// The config file to read: `--config`, else `SLUICE_CONFIG`, else none.
    public static func configFilePath(flag: String?, environment: [String: String]) -> String? {
        if let flag { return flag }
        guard let fromEnvironment = environment["SLUICE_CONFIG"], !fromEnvironment.isEmpty else { return nil }
        return fromEnvironment
    }

    public static func resolve(
        file: FileText?, environment: [String: String], flags: [SettingName: String]
    ) throws(ConfigError) -> Settings {
        try resolveWithOrigins(file: file, environment: environment, flags: flags).settings
    }

    public static func resolveWithOrigins(
        file: FileText?, environment: [String: String], flags: [SettingName: String]
    ) throws(ConfigError) -> Resolution {
        let configFile = try parse(file)
        let environmentLayer = try SettingsLayer.parse(environmentValues(environment)) { "environment variable \($0.environmentVariable)" }
        let flagLayer = try SettingsLayer.parse(flags) { $0.flag }

        var origins: [SettingName: SettingOrigin] = [:]
        for setting in SettingName.allCases {
            if flagLayer.sets(setting) {
                origins[setting] = .flag
            } else if environmentLayer.sets(setting) {
                origins[setting] = .environment
            } else if configFile.settings.sets(setting) {
                origins[setting] = .configFile
            } else {
                origins[setting] = .default
            }
        }
        let layers = [flagLayer, environmentLayer, configFile.settings]
        func first<Value>(_ value: (SettingsLayer) -> Value?) -> Value? {
            layers.lazy.compactMap(value).first
        }

        guard let databasePath = first(\.databasePath) ?? DefaultPaths.database(environment: environment) else {
            throw ConfigError("no database path: give --db or SLUICE_DB, or set STATE_DIRECTORY, XDG_STATE_HOME or HOME")
        }
        let defaults = Settings(unixSocketPath: nil, databasePath: databasePath)
        let tcp = first(\.tcp) ?? defaults.tcp.map(Listener.on) ?? .off
        let unix: Listener<String>
        if let given = first(\.unix) {
            unix = given
        } else {
            let path = DefaultPaths.unixSocket(environment: environment, databasePath: databasePath)
            do {
                unix = .on(try UnixSocketPath.validate(path))
            } catch {
                throw error.at("unix (the default, beside the database; give --unix or SLUICE_UNIX)")
            }
        }
        guard tcp != .off || unix != .off else {
            throw ConfigError("both listeners are off (tcp and unix); leave at least one on")
        }

        let settings = Settings(
            tcp: tcp.address,
            unixSocketPath: unix.address,
            databasePath: databasePath,
            upstream: first(\.upstream) ?? defaults.upstream,
            upstreamTimeout: first(\.upstreamTimeout) ?? defaults.upstreamTimeout,
            maxBodyBytes: first(\.maxBodyBytes) ?? defaults.maxBodyBytes,
            logLevel: first(\.logLevel) ?? defaults.logLevel,
            logFormat: first(\.logFormat) ?? defaults.logFormat,
            cache: configFile.cache,
            limits: configFile.limits,
            keys: configFile.keys,
            usage: configFile.usage,
            idleTimeout: first(\.idleTimeout) ?? defaults.idleTimeout,
            maxConnections: first(\.maxConnections) ?? defaults.maxConnections,
            shutdownTimeout: first(\.shutdownTimeout) ?? defaults.shutdownTimeout,
            webAccess: WebAccessPolicy(
                allowedHosts: first(\.allowedHosts) ?? [], allowedOrigins: first(\.allowedOrigins) ?? [])
        )
        var resolved = settings
        resolved.budgets = configFile.budgets
        return Resolution(settings: resolved, origins: origins)
    }

    private static func parse(_ file: FileText?) throws(ConfigError) -> ConfigFile {
        guard let file else { return ConfigFile() }
        do {
            return try ConfigFile.parse(yaml: file.text)
        } catch {
            throw error.at("config file \(file.path)")
        }
    }

    /// The `SLUICE_*` variables that are set; an empty variable counts as unset.
    private static func environmentValues(_ environment: [String: String]) -> [SettingName: String] {
        var values: [SettingName: String] = [:]
        for setting in SettingName.allCases {
            if let value = environment[setting.environmentVariable], !value.isEmpty {
                values[setting] = value
            }
        }
        return values
    }
}
