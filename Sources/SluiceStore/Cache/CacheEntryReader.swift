// The SQLite C API, as GRDB itself imports it (see StatsScanColumns.swift).
import Foundation
import GRDBSQLite
import SluiceCore
import Synchronization

/// What a lookup by key found.
enum CacheLookupResult {
    case found(CachedResponse)
    case notFound
    /// A row is stored under the key but cannot be decoded.
    case undecodable
}

/// One read-only SQLite connection with the cache lookup prepared once.
///
/// Cache lookups are the one query on a request's path, answered on the event
/// loop, so they skip GRDB: its reader pool hands a connection over through a
/// semaphore and dispatch queues, which costs more than the lookup itself when
/// the pages are in memory. Not thread-safe: `CacheEntryReaderPool` lends a
/// reader to one caller at a time.
///
/// Lookups share a read transaction, a *snapshot*, until the pool says it is
/// stale: starting and ending a WAL read transaction per lookup (shared-memory
/// read marks, `fcntl` locks) cost a third of a lookup that finds its page in
/// the OS cache.
final class CacheEntryReader: @unchecked Sendable {
    private let connection: OpaquePointer
    private let lookup: OpaquePointer
    private let beginSnapshot: OpaquePointer
    private let endSnapshot: OpaquePointer
    private let path: String
    /// The open snapshot: the pool generation it was taken in, and when.
    private var snapshot: (generation: UInt64, takenAt: ContinuousClock.Instant)?
    /// The short text columns repeat across entries (a handful of key ids, routes,
    /// models, content types): the last value of each is reused instead of
    /// allocating an equal string on every read.
    private var recentText = [String?](repeating: nil, count: 6)

    static let lookupSQL = """
        SELECT key, key_id, model, route, status, content_type, body, body_bytes,
               created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost
        FROM cache_entries WHERE id = ?
        """

    init(path: String, pageCacheKiB: Int) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        let opened = sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(opened)"
            sqlite3_close_v2(handle)
            throw SluiceStoreError.cannotOpen(path: path, reason: reason)
        }
        // WAL readers wait only while a checkpoint resets the log: briefly. A lookup
        // that gives up is a miss, never a failed request.
        sqlite3_busy_timeout(handle, 250)
        sqlite3_exec(handle, "PRAGMA cache_size = -\(pageCacheKiB)", nil, nil, nil)
        var statements: [OpaquePointer] = []
        for sql in [Self.lookupSQL, "BEGIN", "COMMIT"] {
            var statement: OpaquePointer?
            let prepared = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard prepared == SQLITE_OK, let statement else {
                let reason = String(cString: sqlite3_errmsg(handle))
                statements.forEach { sqlite3_finalize($0) }
                sqlite3_close_v2(handle)
                throw SluiceStoreError.cannotOpen(path: path, reason: reason)
            }
            statements.append(statement)
        }
        self.connection = handle
        self.lookup = statements[0]
        self.beginSnapshot = statements[1]
        self.endSnapshot = statements[2]
    }

    deinit {
        closeSnapshot()
        for statement in [lookup, beginSnapshot, endSnapshot] { sqlite3_finalize(statement) }
        sqlite3_close_v2(connection)
    }

    /// The row stored under `id`, if it holds `key` (another key may share the id:
    /// that is a miss), as of a snapshot taken in pool generation `generation` and
    /// no older than `maxAge`: an older one is closed and a new one taken. With
    /// `keepSnapshot` false the lookup is a transaction of its own.
    func entry(
        id: Int64, key: String, generation: UInt64, maxAge: Duration, keepSnapshot: Bool = true
    ) throws -> CacheLookupResult {
        let now = ContinuousClock.now
        if let snapshot, !keepSnapshot || snapshot.generation != generation || now - snapshot.takenAt > maxAge {
            closeSnapshot()
        }
        if snapshot == nil, keepSnapshot {
            // BEGIN takes no lock: the first step of the lookup does.
            guard sqlite3_step(beginSnapshot) == SQLITE_DONE else {
                sqlite3_reset(beginSnapshot)
                throw failure("cache lookup")
            }
            sqlite3_reset(beginSnapshot)
            snapshot = (generation, now)
        }
        defer { sqlite3_reset(lookup) }
        sqlite3_bind_int64(lookup, 1, id)
        switch sqlite3_step(lookup) {
        case SQLITE_ROW:
            guard sqlite3_column_type(lookup, 0) == SQLITE_TEXT else { return .undecodable }
            guard columnEquals(0, key) else { return .notFound }
            return decodeCurrentRow(key: key).map(CacheLookupResult.found) ?? .undecodable
        case SQLITE_DONE:
            return .notFound
        default:
            let error = failure("cache lookup")
            sqlite3_reset(lookup)
            closeSnapshot()
            throw error
        }
    }

    /// Ends the read transaction, if one is open (an idle reader's snapshot
    /// would otherwise hold back WAL checkpoints).
    func closeSnapshot() {
        snapshot = nil
        guard sqlite3_get_autocommit(connection) == 0 else { return }
        if sqlite3_step(endSnapshot) != SQLITE_DONE {
            sqlite3_exec(connection, "ROLLBACK", nil, nil, nil)
        }
        sqlite3_reset(endSnapshot)
    }

    private func failure(_ operation: String) -> SluiceStoreError {
        .failed(operation, path: path, reason: String(cString: sqlite3_errmsg(connection)))
    }

    /// Decodes the row under the cursor, stored under `key`, or nil when a column
    /// has the wrong type or the body does not match its recorded size.
    private func decodeCurrentRow(key: String) -> CachedResponse? {
        guard
            let keyID = recurringText(1), let route = recurringText(3),
            let status = integer(4), (100...599).contains(status),
            let contentType = recurringText(5),
            sqlite3_column_type(lookup, 6) == SQLITE_BLOB,
            let bodyBytes = integer(7), bodyBytes == Int(sqlite3_column_bytes(lookup, 6)),
            let createdAt = number(8), let expiresAt = number(9)
        else { return nil }
        let model: String?
        switch sqlite3_column_type(lookup, 2) {
        case SQLITE_NULL: model = nil
        case SQLITE_TEXT: model = recurringText(2)
        default: return nil
        }
        var usage: TokenUsage?
        if let prompt = integer(10), let completion = integer(11), let total = integer(12) {
            usage = TokenUsage(promptTokens: prompt, completionTokens: completion, totalTokens: total, cost: number(13))
        }
        return CachedResponse(
            key: key, keyID: keyID, model: model, route: route, status: status, contentType: contentType,
            body: blob(6), createdAt: createdAt, expiresAt: expiresAt, usage: usage)
    }

    /// The text of `column`, reusing the string last read from it when equal.
    private func recurringText(_ column: Int32) -> String? {
        guard sqlite3_column_type(lookup, column) == SQLITE_TEXT, let bytes = sqlite3_column_text(lookup, column) else {
            return nil
        }
        let slot = Int(column)
        if let recent = recentText[slot], columnEquals(column, recent) { return recent }
        let count = Int(sqlite3_column_bytes(lookup, column))
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
        recentText[slot] = text
        return text
    }

    /// Whether the text of `column` is `value`, byte for byte, without making a string.
    private func columnEquals(_ column: Int32, _ value: String) -> Bool {
        guard let bytes = sqlite3_column_text(lookup, column) else { return false }
        let count = Int(sqlite3_column_bytes(lookup, column))
        var value = value
        return value.withUTF8 { utf8 in
            utf8.count == count && (count == 0 || memcmp(utf8.baseAddress!, bytes, count) == 0)
        }
    }

    private func integer(_ column: Int32) -> Int? {
        guard sqlite3_column_type(lookup, column) == SQLITE_INTEGER else { return nil }
        return Int(sqlite3_column_int64(lookup, column))
    }

    /// A REAL or INTEGER column as a Double.
    private func number(_ column: Int32) -> Double? {
        switch sqlite3_column_type(lookup, column) {
        case SQLITE_FLOAT, SQLITE_INTEGER: sqlite3_column_double(lookup, column)
        default: nil
        }
    }

    private func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(lookup, column))
        guard count > 0, let bytes = sqlite3_column_blob(lookup, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }
}

/// Read-only connections for cache lookups, lent to one caller at a time and
/// opened on first need (at most one per thread looking up at once).
///
/// Readers keep their snapshot across lookups (see `CacheEntryReader`) until
/// `invalidateSnapshots()` is called, which the store does after each of its
/// writes to the cache table, or until the snapshot is `maxSnapshotAge` old.
///
/// Snapshots held back to back starve WAL checkpoints: a checkpoint copies
/// frames back only up to the oldest snapshot, and the log restarts from its
/// beginning only once no reader uses it, so under steady writes it would only
/// grow. `withoutSnapshots(_:)` opens a window in which lookups are single
/// transactions, for a checkpoint to catch up (see `CacheStore.checkpoint()`).
final class CacheEntryReaderPool: Sendable {
    private let path: String
    private let pageCacheKiB: Int
    private let idle = Mutex<[CacheEntryReader]>([])
    /// More idle readers than this are closed rather than kept.
    private let maxIdle = 16
    private let generation = Atomic<UInt64>(0)
    /// Windows open in `withoutSnapshots(_:)`; lookups keep no snapshot while > 0.
    private let snapshotPauses = Atomic<Int>(0)
    /// Bounds how long an outside write (`sluice cache purge`) can go unseen
    /// and how long a snapshot holds back WAL checkpoints.
    let maxSnapshotAge: Duration

    /// - Parameter pageCacheKiB: SQLite page cache per connection; enough for the
    ///   interior pages of the cache's B-trees keeps a lookup to a leaf read or two.
    init(path: String, pageCacheKiB: Int = 8 * 1024, maxSnapshotAge: Duration = .seconds(1)) {
        self.path = path
        self.pageCacheKiB = pageCacheKiB
        self.maxSnapshotAge = maxSnapshotAge
    }

    /// The entry stored under `id` if it holds `key`, read through an idle reader.
    func entry(id: Int64, key: String) throws -> CacheLookupResult {
        let reader = try idle.withLock { $0.popLast() } ?? CacheEntryReader(path: path, pageCacheKiB: pageCacheKiB)
        defer {
            idle.withLock { readers in
                if readers.count < maxIdle { readers.append(reader) }
            }
        }
        return try reader.entry(
            id: id, key: key, generation: generation.load(ordering: .acquiring), maxAge: maxSnapshotAge,
            keepSnapshot: snapshotPauses.load(ordering: .acquiring) == 0)
    }

    /// Runs `body` while lookups keep no snapshot: idle readers close theirs at
    /// once, busy ones at their next lookup.
    func withoutSnapshots<T>(_ body: () throws -> T) rethrows -> T {
        snapshotPauses.wrappingAdd(1, ordering: .acquiringAndReleasing)
        defer { snapshotPauses.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        invalidateSnapshots()
        idle.withLock { readers in
            for reader in readers { reader.closeSnapshot() }
        }
        return try body()
    }

    /// Makes every later lookup see all commits made before this call.
    func invalidateSnapshots() {
        generation.wrappingAdd(1, ordering: .releasing)
    }
}
