/// Where and how to reach the PostgreSQL database of a fleet:
/// `postgresql://user:password@host:port/database?sslmode=require`.
///
/// Parse one with `init(parsing:)`, then take a missing password from the
/// environment with `resolvingPassword(environment:)`. The password never
/// appears in `description` (which is `redacted`) nor in any error.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// How to reach the server.
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// A folder holding the server's socket `.s.PGSQL.<port>` (`?host=/path`).
        case unixSocket(directory: String, port: Int)
    }

    /// libpq's `sslmode`, as far as Sluice supports it. Ignored over a Unix socket.
    public enum SSLMode: String, Sendable, Equatable, CaseIterable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or fail, without checking the certificate, unless `sslrootcert` is given:
        /// then the certificate must chain to it (as libpq does).
        case require
        /// TLS, the certificate chaining to a trusted root; any host name.
        case verifyCA = "verify-ca"
        /// TLS, the certificate chaining to a trusted root and naming the host.
        case verifyFull = "verify-full"
    }

    public static let defaultPort = 5432

    public var user: String
    /// Never printed: `description` masks it.
    public var password: String?
    public var endpoint: Endpoint
    /// nil: the server's default, a database named like the user.
    public var database: String?
    public var sslMode: SSLMode
    /// PEM file of the roots the server's certificate must chain to (`sslrootcert`);
    /// nil: the system's roots.
    public var rootCertificatePath: String?
    /// `connect_timeout`, in whole seconds as libpq takes it; nil: the caller's default.
    public var connectTimeout: Duration?

    public init(
        user: String, password: String? = nil, endpoint: Endpoint, database: String? = nil,
        sslMode: SSLMode = .prefer, rootCertificatePath: String? = nil, connectTimeout: Duration? = nil
    ) {
        self.user = user
        self.password = password
        self.endpoint = endpoint
        self.database = database
        self.sslMode = sslMode
        self.rootCertificatePath = rootCertificatePath
        self.connectTimeout = connectTimeout
    }

    /// Whether `text` is meant as a PostgreSQL URL (rather than a SQLite file path).
    public static func isPostgresURL(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://")
    }

    /// The server in one short phrase for messages: `sluice@db.internal:5432/sluice`.
    public var server: String {
        let place: String
        switch endpoint {
        case .tcp(let host, let port):
            place = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        case .unixSocket(let directory, let port):
            place = "\(directory)/.s.PGSQL.\(port)"
        }
        return "\(user)@\(place)/\(database ?? user)"
    }

    public var description: String { redacted }

    public var debugDescription: String { "PostgresURL(\(redacted))" }
}
