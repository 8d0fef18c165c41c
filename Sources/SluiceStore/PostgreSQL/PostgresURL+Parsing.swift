import Foundation

extension PostgresURL {
    /// Parses `postgresql://` (or `postgres://`) `[user[:password]@][host][:port][/database][?parameters]`.
    ///
    /// User, password, host and database are percent-decoded. The host may be
    /// an IPv6 address in brackets, or a socket folder: percent-encoded
    /// (`%2Frun%2Fpostgresql`) or given as `?host=/run/postgresql`. Parameters:
    /// `sslmode` (disable, prefer, require, verify-ca, verify-full), `sslrootcert`,
    /// `host`, `connect_timeout` (seconds). Errors never quote the URL: it may
    /// hold the password.
    public init(parsing text: String) throws {
        guard let schemeEnd = text.range(of: "://"),
              ["postgresql", "postgres"].contains(text[..<schemeEnd.lowerBound].lowercased())
        else { throw Self.invalid("it must start with postgresql:// or postgres://") }
        var rest = Substring(text[schemeEnd.upperBound...])
        if rest.contains("#") { throw Self.invalid("it has a #fragment") }

        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // The last @ ends the user part: a password may hold an unencoded @.
        var userInfo: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }

        var user = ""
        var password: String?
        if let colon = userInfo.firstIndex(of: ":") {
            user = try Self.decoded(userInfo[..<colon], "the user name")
            password = try Self.decoded(userInfo[userInfo.index(after: colon)...], "the password")
        } else {
            user = try Self.decoded(userInfo, "the user name")
        }
        var (host, port) = try Self.hostAndPort(rest)
        let database = try Self.decoded(path, "the database name")
        if database.contains("/") { throw Self.invalid("the database name has a /") }

        var sslMode = SSLMode.prefer
        var rootCertificatePath: String?
        var connectTimeout: Duration?
        for (name, value) in try Self.parameters(query) {
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    let modes = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Self.invalid("sslmode must be one of \(modes)")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificatePath = value
            case "host":
                host = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 3_600 else {
                    throw Self.invalid("connect_timeout must be a whole number of seconds from 1 to 3600")
                }
                connectTimeout = .seconds(seconds)
            default:
                throw Self.invalid("unknown parameter '\(name)' (known: sslmode, sslrootcert, host, connect_timeout)")
            }
        }

        guard !user.isEmpty else { throw Self.invalid("it names no user (postgresql://USER@host/database)") }
        guard !host.isEmpty else { throw Self.invalid("it names no host") }
        if host.contains(",") { throw Self.invalid("several hosts are not supported") }
        let endpoint: Endpoint = host.hasPrefix("/")
            ? .unixSocket(directory: host, port: port)
            : .tcp(host: host, port: port)
        self.init(
            user: user, password: password, endpoint: endpoint, database: database.isEmpty ? nil : database,
            sslMode: sslMode, rootCertificatePath: rootCertificatePath, connectTimeout: connectTimeout)
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port` or empty; the port defaults to 5432.
    private static func hostAndPort(_ text: Substring) throws -> (host: String, port: Int) {
        var hostPart = text
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("an IPv6 address lacks its ]") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                portPart = after.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        var port = defaultPort
        if let portPart {
            guard let number = Int(portPart), (1...65_535).contains(number) else {
                throw invalid("the port must be a number from 1 to 65535")
            }
            port = number
        }
        return (try decoded(hostPart, "the host"), port)
    }

    /// `name=value` pairs separated by `&`, both percent-decoded.
    private static func parameters(_ query: Substring) throws -> [(String, String)] {
        try query.split(separator: "&").map { pair in
            guard let equals = pair.firstIndex(of: "=") else {
                throw invalid("a parameter lacks its =value")
            }
            let name = try decoded(pair[..<equals], "a parameter name")
            return (name, try decoded(pair[pair.index(after: equals)...], "the value of '\(name)'"))
        }
    }

    private static func decoded(_ part: Substring, _ what: String) throws -> String {
        guard let text = String(part).removingPercentEncoding else {
            throw invalid("\(what) is not valid percent-encoding")
        }
        return text
    }

    private static func invalid(_ reason: String) -> PostgresStoreError {
        .invalidURL(reason: reason)
    }
}
