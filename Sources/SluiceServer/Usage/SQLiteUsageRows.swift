import NIOPosix
import SluiceCore
import SluiceStore

/// The usage rows in this daemon's SQLite file, written on the thread pool.
struct SQLiteUsageRows: UsageRowStorage {
    let store: UsageStore
    let threadPool: NIOThreadPool

    func insert(_ rows: [UsageRecord]) async throws {
        do {
            try await threadPool.runIfActive { [store] in try store.insert(rows) }
        } catch is CancellationError {
            // The pool has stopped (the last flush at shutdown): write from here.
            try store.insert(rows)
        }
    }

    func prune(olderThan: Double) async throws -> Int {
        try await threadPool.runIfActive { [store] in try store.prune(olderThan: olderThan) }
    }

    func spendByKey(since: Double) async throws -> [String: Double] {
        try await threadPool.runIfActive { [store] in try store.spendByKey(since: since) }
    }
}
