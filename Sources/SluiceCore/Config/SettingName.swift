/// The settings that a flag, an environment variable and a top-level config
/// file key can each give; raw values are the config file keys.
public enum SettingName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tcp
    case unix
    case db
    case upstream
    case upstreamTimeout = "upstream_timeout"
    case maxBody = "max_body"
    case logLevel = "log_level"
    case logFormat = "log_format"
    case idleTimeout = "idle_timeout"
    case maxConnections = "max_connections"
    case shutdownTimeout = "shutdown_timeout"
    /// Environment and file only (a comma-separated list in the variable).
    case allowedHosts = "allowed_hosts"
    /// Environment and file only (a comma-separated list in the variable).
    case allowedOrigins = "allowed_origins"

    /// Whether `sluice serve` has a flag for it.
    public var hasFlag: Bool { self != .allowedHosts && self != .allowedOrigins }

    /// `--upstream-timeout`
    public var flag: String { "--" + rawValue.replacingUnderscores(with: "-") }

    /// `SLUICE_UPSTREAM_TIMEOUT`
    public var environmentVariable: String { "SLUICE_" + rawValue.uppercased() }

    public var description: String { rawValue }
}

extension String {
    fileprivate func replacingUnderscores(with replacement: Character) -> String {
        String(map { $0 == "_" ? replacement : $0 })
    }
}
