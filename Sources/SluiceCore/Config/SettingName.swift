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
