/// Where the database and the socket go when no source names them, following
/// systemd's `StateDirectory=`/`RuntimeDirectory=` and the XDG base directories.
public enum DefaultPaths {
    /// `$STATE_DIRECTORY/sluice.db`, else `$XDG_STATE_HOME/sluice/sluice.db`,
    /// else `$HOME/.local/state/sluice/sluice.db`; `nil` when none of them is set.
    public static func database(environment: [String: String]) -> String? {
        if let state = firstDirectory(environment["STATE_DIRECTORY"]) {
            return join(state, "sluice.db")
        }
        // The XDG spec says to ignore a relative XDG_STATE_HOME.
        if let xdgState = firstDirectory(environment["XDG_STATE_HOME"]), xdgState.hasPrefix("/") {
            return join(xdgState, "sluice/sluice.db")
        }
        if let home = firstDirectory(environment["HOME"]) {
            return join(home, ".local/state/sluice/sluice.db")
        }
        return nil
    }

    /// `$RUNTIME_DIRECTORY/sluice.sock`, else `sluice.sock` in the database's
    /// folder (for a PostgreSQL database, the folder the SQLite file would have).
    public static func unixSocket(environment: [String: String], databasePath: String) -> String {
        if let runtime = firstDirectory(environment["RUNTIME_DIRECTORY"]) {
            return join(runtime, "sluice.sock")
        }
        var databasePath = databasePath
        if DatabaseLocation(databasePath).isPostgreSQL {
            guard let local = database(environment: environment) else { return "sluice.sock" }
            databasePath = local
        }
        guard let slash = databasePath.lastIndex(of: "/") else { return "sluice.sock" }
        return join(String(databasePath[...slash]), "sluice.sock")
    }

    /// The file of the systemd credential `name` (`LoadCredential=`), under the
    /// first folder of `$CREDENTIALS_DIRECTORY`; nil when that is not set.
    public static func credentialFile(named name: String, environment: [String: String]) -> String? {
        firstDirectory(environment["CREDENTIALS_DIRECTORY"]).map { join($0, name) }
    }

    /// systemd passes several directories separated by colons; the first is ours.
    static func firstDirectory(_ value: String?) -> String? {
        guard let first = value?.split(separator: ":", omittingEmptySubsequences: true).first else { return nil }
        return first.trimmingWhitespace.isEmpty ? nil : String(first)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
