import SluiceCore

/// The usage rows: one per request, appended in batches off the request path.
public protocol UsageRowStorage: Sendable {
    /// Appends `rows`, all or none.
    func insert(_ rows: [UsageRecord]) async throws

    /// Deletes rows whose time is before `olderThan` (unix seconds); returns how many.
    func prune(olderThan: Double) async throws -> Int

    /// The reported cost (USD) of each key id's rows at or after `since` (unix
    /// seconds); keys without cost are left out.
    func spendByKey(since: Double) async throws -> [String: Double]
}
