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
    public var idleTimeout: Duration?
    public var maxConnections: Int?
    public var shutdownTimeout: Duration?
    public var allowedHosts: [String]?
    public var allowedOrigins: [String]?

    public init() {}

    /// Reads `text` as the value of `setting` and keeps it.
    public mutating func set(_ setting: SettingName, from text: String) throws(ConfigError) {
        switch setting {
        case .tcp: tcp = try Listener.parse(text, address: HostAndPort.parse)
        case .unix: unix = try Listener.parse(text, address: UnixSocketPath.validate)
        case .db: databasePath = try Self.path(text)
        case .upstream: upstream = try UpstreamURL.normalize(text)
        case .upstreamTimeout:
            upstreamTimeout = try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.upstreamTimeout, text)
        case .maxBody:
            maxBodyBytes = try SettingBounds.check(ByteSizeParser.parse(text), in: SettingBounds.maxBodyBytes, text, size: true)
        case .logLevel: logLevel = try Self.choice(text)
        case .logFormat: logFormat = try Self.choice(text)
        case .idleTimeout:
            idleTimeout = try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.idleTimeout, text)
        case .maxConnections:
            maxConnections = try SettingBounds.check(Self.count(text), in: SettingBounds.maxConnections, text, size: false)
        case .shutdownTimeout:
            shutdownTimeout = try SettingBounds.check(DurationParser.parse(text), in: SettingBounds.shutdownTimeout, text)
        case .allowedHosts: allowedHosts = try Self.list(text, WebAccessPolicy.parseHost)
        case .allowedOrigins: allowedOrigins = try Self.list(text, WebAccessPolicy.parseOrigin)
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
        case .idleTimeout: idleTimeout != nil
        case .maxConnections: maxConnections != nil
        case .shutdownTimeout: shutdownTimeout != nil
        case .allowedHosts: allowedHosts != nil
        case .allowedOrigins: allowedOrigins != nil
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

    /// A whole number, written in digits (`4096`, or `4_096` as YAML allows).
    private static func count(_ text: String) throws(ConfigError) -> Int {
        let digits = text.trimmingWhitespace.filter { $0 != "_" }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not a whole number")
        }
        guard let value = Int(digits) else { throw ConfigError("\(ConfigError.quoted(text)) is too large a number") }
        return value
    }

    /// A comma-separated list (a YAML list arrives joined by commas); empty
    /// entries are skipped, so an empty text is an empty list.
    private static func list(_ text: String, _ parseEntry: (String) throws(ConfigError) -> String) throws(ConfigError) -> [String] {
        let entries = text.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        guard SettingBounds.listEntries.contains(entries.count) else {
            throw ConfigError("more than \(SettingBounds.listEntries.upperBound) entries")
        }
        var parsed: [String] = []
        for entry in entries { parsed.append(try parseEntry(entry)) }
        return parsed
    }

    private static func choice<Choice: RawRepresentable<String> & CaseIterable>(_ text: String) throws(ConfigError) -> Choice {
        guard let choice = Choice(rawValue: text.trimmingWhitespace.lowercased()) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError("\(ConfigError.quoted(text)) is not one of \(choices)")
        }
        return choice
    }
}
