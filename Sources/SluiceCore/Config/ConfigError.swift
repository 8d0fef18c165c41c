/// A configuration problem a person can fix: a bad flag, variable or config file entry.
///
/// The text says where the bad value came from, outermost first, then what is
/// wrong with it, e.g. `config file /etc/sluice/config.yaml: cache.ttl: "abc" is
/// not a duration (use 90s, 15m, 24h, 7d)`. Values that may be secrets (client
/// keys, credentials) are never quoted.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, outermost first: a source, then a key path.
    public private(set) var location: [String]
    /// What is wrong, without the location.
    public let problem: String

    public init(_ problem: String, at location: [String] = []) {
        self.problem = problem
        self.location = location
    }

    /// The same error, placed inside `outerLocation` (e.g. a file or a parent key).
    public func at(_ outerLocation: String) -> ConfigError {
        ConfigError(problem, at: [outerLocation] + location)
    }

    public var description: String {
        (location + [problem]).joined(separator: ": ")
    }
}

extension ConfigError {
    /// Quotes a user-supplied value for an error message.
    static func quoted(_ text: String) -> String {
        var quoted = "\""
        for character in text {
            switch character {
            case "\"", "\\": quoted += "\\\(character)"
            case "\n": quoted += "\\n"
            default: quoted.append(character)
            }
        }
        return quoted + "\""
    }
}
