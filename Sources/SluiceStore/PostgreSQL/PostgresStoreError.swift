/// A PostgreSQL storage failure a person can act on, in one line that names
/// the server (never its password). Carries no SQL arguments, row contents
/// or secrets.
public struct PostgresStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case invalidURL(reason: String)
        case unreadablePassword(reason: String)
        case cannotConnect(reason: String)
        case loginRefused(reason: String)
        case timedOut(operation: String, after: Duration)
        case newerSchema(unknown: [String])
        case olderSchema(missing: [String])
        case failed(operation: String, reason: String)
    }

    private let code: Code
    /// The server concerned, as `PostgresURL.server` names it; empty for an invalid URL or password file.
    public let server: String

    private init(_ code: Code, server: String) {
        self.code = code
        self.server = server
    }

    /// The `--db` URL cannot be used as it is.
    public static func invalidURL(reason: String) -> Self {
        Self(.invalidURL(reason: reason), server: "")
    }

    /// The password's file (the systemd credential) cannot be read.
    public static func unreadablePassword(reason: String) -> Self {
        Self(.unreadablePassword(reason: reason), server: "")
    }

    /// The server cannot be reached, or TLS could not be set up.
    public static func cannotConnect(server: String, reason: String) -> Self {
        Self(.cannotConnect(reason: reason), server: server)
    }

    /// The server refused the login (wrong password, unknown user or database).
    public static func loginRefused(server: String, reason: String) -> Self {
        Self(.loginRefused(reason: reason), server: server)
    }

    /// `operation` got no answer in time (the server or the network is down or stuck).
    public static func timedOut(_ operation: String, server: String, after limit: Duration) -> Self {
        Self(.timedOut(operation: operation, after: limit), server: server)
    }

    /// The database was migrated by a newer Sluice: it holds migrations this binary does not know.
    public static func newerSchema(server: String, unknownMigrations: [String]) -> Self {
        Self(.newerSchema(unknown: unknownMigrations.sorted()), server: server)
    }

    /// The database lacks migrations this binary needs (opening without migrating).
    public static func olderSchema(server: String, missingMigrations: [String]) -> Self {
        Self(.olderSchema(missing: missingMigrations), server: server)
    }

    /// A statement failed on a reachable server.
    public static func failed(_ operation: String, server: String, reason: String) -> Self {
        Self(.failed(operation: operation, reason: reason), server: server)
    }

    public var isTimeout: Bool {
        if case .timedOut = code { return true }
        return false
    }

    public var isLoginRefused: Bool {
        if case .loginRefused = code { return true }
        return false
    }

    public var isNewerSchema: Bool {
        if case .newerSchema = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .invalidURL(let reason):
            return "invalid PostgreSQL URL: \(reason)"
        case .unreadablePassword(let reason):
            return "cannot read the PostgreSQL password: \(reason)"
        case .cannotConnect(let reason):
            return "cannot connect to PostgreSQL at \(server): \(reason)"
        case .loginRefused(let reason):
            return "PostgreSQL at \(server) refused the login: \(reason)"
        case .timedOut(let operation, let limit):
            return "\(operation) on PostgreSQL at \(server) got no answer within \(Self.seconds(limit)) s"
        case .newerSchema(let unknown):
            return "PostgreSQL database at \(server) was migrated by a newer Sluice (unknown migrations: \(unknown.joined(separator: ", "))); upgrade sluice"
        case .olderSchema(let missing):
            return "PostgreSQL database at \(server) needs migrations \(missing.joined(separator: ", ")); run `sluice migrate`"
        case .failed(let operation, let reason):
            return "\(operation) failed on PostgreSQL at \(server): \(reason)"
        }
    }

    /// `5`, `0.25`: whole seconds without a fraction.
    private static func seconds(_ duration: Duration) -> String {
        let parts = duration.components
        let milliseconds = parts.seconds * 1_000 + parts.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)" : "\(Double(milliseconds) / 1_000)"
    }
}
