/// How long each kind of wait on PostgreSQL may last: none is unbounded.
public struct PostgresTimeouts: Sendable, Equatable {
    /// Reaching the server, TLS and login (the URL's `connect_timeout` wins).
    public var connect: Duration
    /// One store operation, waiting for a pooled connection included; also
    /// the server's `statement_timeout`.
    public var query: Duration
    /// A stats report over many rows.
    public var report: Duration
    /// Applying migrations, waiting for another daemon applying them included.
    public var migration: Duration

    public init(
        connect: Duration = .seconds(5), query: Duration = .seconds(5), report: Duration = .seconds(120),
        migration: Duration = .seconds(120)
    ) {
        self.connect = connect
        self.query = query
        self.report = report
        self.migration = migration
    }

    /// `duration` in whole milliseconds (at least 1), as PostgreSQL settings take it.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return max(1, parts.seconds * 1_000 + parts.attoseconds / 1_000_000_000_000_000)
    }
}
