/// Everything the daemon is configured with: the effective settings, where
/// each came from, and how it presents itself upstream.
public struct Configuration: Sendable, Equatable {
    public var settings: Settings
    /// Where each top-level setting's value came from.
    public var origins: [SettingName: SettingOrigin]
    public var upstream: UpstreamIdentity
    /// The config file read, or `nil` when there is none.
    public var configFilePath: String?

    public init(
        settings: Settings, origins: [SettingName: SettingOrigin], upstream: UpstreamIdentity, configFilePath: String?
    ) {
        self.settings = settings
        self.origins = origins
        self.upstream = upstream
        self.configFilePath = configFilePath
    }

    /// Reads the config file (from `--config`, else `SLUICE_CONFIG`) through
    /// `readFile`, then resolves the settings and the upstream identity.
    /// Call it again to reload (e.g. on `SIGHUP`).
    ///
    /// - Parameter readFile: a file's text, `nil` when there is no such file;
    ///   throws (with a short reason as its description) when it cannot be read.
    public static func load(
        configFlag: String?, flags: [SettingName: String], environment: [String: String],
        readFile: (_ path: String) throws -> String?
    ) throws(ConfigError) -> Configuration {
        let file = try SettingsResolver.FileText.load(configFlag: configFlag, environment: environment, readFile: readFile)
        let resolution = try SettingsResolver.resolveWithOrigins(file: file, environment: environment, flags: flags)
        let upstream = try UpstreamIdentity.resolve(environment: environment, readCredentialFile: readFile)
        return Configuration(
            settings: resolution.settings, origins: resolution.origins, upstream: upstream, configFilePath: file?.path
        )
    }
}
