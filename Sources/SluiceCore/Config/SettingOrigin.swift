/// Which source a top-level setting's effective value came from.
public enum SettingOrigin: Sendable, Equatable {
    case flag
    case environment
    case configFile
    case `default`

    /// E.g. `--tcp`, `SLUICE_TCP`, `config file`, `default`.
    public func describe(_ setting: SettingName) -> String {
        switch self {
        case .flag: setting.flag
        case .environment: setting.environmentVariable
        case .configFile: "config file"
        case .default: "default"
        }
    }
}
