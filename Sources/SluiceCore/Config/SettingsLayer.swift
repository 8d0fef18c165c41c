/// The top-level settings given by one source (flags, environment or config
/// file); `nil` means that source does not set it.
public struct SettingsLayer: Sendable, Equatable {
    public var tcp: Listener<HostAndPort>?
    public var unix: Listener<String>?
    public var databasePath: String?
    public var upstream: String?
    public var upstreamTimeout: Duration?
    public var maxBodyBytes: Int?
    public var logLevel: LogLevelSetting?
    public var logFormat: LogFormat?

    public init() {}

    /// Reads `text` as the value of `setting` and keeps it.
    public mutating func set(_ setting: SettingName, from text: String) throws(ConfigError) {
        switch setting {
        case .tcp: tcp = try Listener.parse(text, address: HostAndPort.parse)
        case .unix: unix = try Listener.parse(text, address: UnixSocketPath.validate)
        case .db: databasePath = try Self.path(text)
        case .upstream: upstream = try UpstreamURL.normalize(text)
        case .upstreamTimeout: upstreamTimeout = try Self.positive(DurationParser.parse(text), text)
        case .maxBody: maxBodyBytes = try Self.positive(ByteSizeParser.parse(text), text)
        case .logLevel: logLevel = try Self.choice(text)
        case .logFormat: logFormat = try Self.choice(text)
        }
    }

    /// Whether this source gives `setting`.
    public func sets(_ setting: SettingName) -> Bool {
        switch setting {
        case .tcp: tcp != nil
        case .unix: unix != nil
        case .db: databasePath != nil
        case .upstream: upstream != nil
        case .upstreamTimeout: upstreamTimeout != nil
        case .maxBody: maxBodyBytes != nil
        case .logLevel: logLevel != nil
        case .logFormat: logFormat != nil
        }
    }

    /// Reads several raw values; an error is placed at `location(setting)`.
    public static func parse(
        _ values: [SettingName: String], location: (SettingName) -> String
    ) throws(ConfigError) -> SettingsLayer {
        var layer = SettingsLayer()
        for setting in SettingName.allCases {
            guard let text = values[setting] else { continue }
            do {
                try layer.set(setting, from: text)
            } catch {
                throw error.at(location(setting))
            }
        }
        return layer
    }

    private static func path(_ text: String) throws(ConfigError) -> String {
        guard !text.trimmingWhitespace.isEmpty else { throw ConfigError("the path is empty") }
        return text
    }

    private static func positive<Value: Comparable & AdditiveArithmetic>(_ value: Value, _ text: String) throws(ConfigError) -> Value {
        guard value > .zero else { throw ConfigError("\(ConfigError.quoted(text)) must be more than zero") }
        return value
    }

    private static func choice<Choice: RawRepresentable<String> & CaseIterable>(_ text: String) throws(ConfigError) -> Choice {
        guard let choice = Choice(rawValue: text.trimmingWhitespace.lowercased()) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError("\(ConfigError.quoted(text)) is not one of \(choices)")
        }
        return choice
    }
}
