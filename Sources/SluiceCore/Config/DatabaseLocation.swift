/// What the `db` setting names: a SQLite file (the embedded default) or a
/// PostgreSQL database shared by a fleet of daemons (`postgresql://…`).
public enum DatabaseLocation: Sendable, Equatable {
    case sqlite(path: String)
    /// The URL as given; it may hold a password, so show `redacted` instead.
    case postgresql(url: String)

    /// Reads the setting's text: a `postgresql://` or `postgres://` URL, else a file path.
    public init(_ text: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") {
            self = .postgresql(url: text)
        } else {
            self = .sqlite(path: text)
        }
    }

    public var isPostgreSQL: Bool {
        if case .postgresql = self { return true }
        return false
    }

    /// The setting as it may be printed or logged: a URL's password replaced by `***`.
    public var redacted: String {
        switch self {
        case .sqlite(let path):
            return path
        case .postgresql(let url):
            return Self.redacting(url)
        }
    }

    /// `scheme://user:secret@host/…` → `scheme://user:***@host/…`; also masks a
    /// `password=` query parameter. The authority ends at the last `@` before
    /// the path, so a password holding `@` or `/` is masked whole.
    static func redacting(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        var authorityAndPath = rest[..<queryStart]
        var masked = String(url[..<schemeEnd.upperBound])
        if let at = authorityAndPath.lastIndex(of: "@") {
            let userInfo = authorityAndPath[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                masked += userInfo[..<colon] + ":***"
            } else {
                masked += userInfo
            }
            authorityAndPath = authorityAndPath[at...]
        }
        masked += authorityAndPath
        guard queryStart < rest.endIndex else { return masked }
        let query = rest[rest.index(after: queryStart)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            pair.lowercased().hasPrefix("password=") ? "password=***" : String(pair)
        }
        return masked + "?" + query.joined(separator: "&")
    }
}
