import GRDB

/// A storage failure a person can act on, described in one line that names the
/// database file. Never carries SQL arguments, row contents or secrets.
public struct SluiceStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case missing
        case cannotOpen(reason: String)
        case newerSchema(unknown: [String])
        case olderSchema(missing: [String])
        case failed(operation: String, reason: String)
    }

    private let code: Code
    /// The database file concerned.
    public let path: String

    private init(_ code: Code, path: String) {
        self.code = code
        self.path = path
    }

    /// No database file exists at `path` (read-only opens never create one).
    public static func missing(path: String) -> Self {
        Self(.missing, path: path)
    }

    /// The file exists but SQLite cannot use it (unreadable, not a database, corrupt).
    public static func cannotOpen(path: String, reason: String) -> Self {
        Self(.cannotOpen(reason: reason), path: path)
    }

    /// The database was migrated by a newer Sluice: it holds migrations this binary does not know.
    public static func newerSchema(path: String, unknownMigrations: [String]) -> Self {
        Self(.newerSchema(unknown: unknownMigrations.sorted()), path: path)
    }

    /// The database lacks migrations this binary needs (read-only opens never migrate).
    public static func olderSchema(path: String, missingMigrations: [String]) -> Self {
        Self(.olderSchema(missing: missingMigrations), path: path)
    }

    /// A statement failed on an open database.
    public static func failed(_ operation: String, path: String, reason: String) -> Self {
        Self(.failed(operation: operation, reason: reason), path: path)
    }

    public var isMissing: Bool { code == .missing }

    public var isNewerSchema: Bool {
        if case .newerSchema = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .missing:
            return "database not found at \(path) (start `sluice serve` or run `sluice migrate` to create it, or pass --db)"
        case .cannotOpen(let reason):
            return "cannot open database at \(path): \(reason)"
        case .newerSchema(let unknown):
            return "database at \(path) was migrated by a newer Sluice (unknown migrations: \(unknown.joined(separator: ", "))); upgrade sluice"
        case .olderSchema(let missing):
            return "database at \(path) needs migrations \(missing.joined(separator: ", ")); run `sluice migrate`"
        case .failed(let operation, let reason):
            return "\(operation) failed on database at \(path): \(reason)"
        }
    }
}

extension SluiceStoreError {
    /// A one-line reason for a SQLite error: its message and code, never the SQL or its arguments.
    static func reason(for error: any Error) -> String {
        if let error = error as? DatabaseError {
            let message = error.message ?? "SQLite error"
            return "\(message) (SQLite code \(error.extendedResultCode.rawValue))"
        }
        if let error = error as? SluiceStoreError {
            return error.description
        }
        return String(describing: type(of: error))
    }
}
