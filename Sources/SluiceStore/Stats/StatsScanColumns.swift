import Foundation
import GRDB
// The SQLite C API, as GRDB itself imports it. `SluiceStore` reaches this module
// through its GRDB dependency (see the GRDB.swift package's `GRDBSQLite` product).
import GRDBSQLite
import SluiceCore

/// Reads the current row of the stats scan (see `StatsReporter.sql(for:)`)
/// straight from the SQLite statement.
///
/// This is the hot loop of `sluice stats`: a million rows per report. The C API
/// reads a NULL number as 0 and hands out text in place, so a row costs no
/// allocation, no NULL check and no `DatabaseValue`.
struct StatsScanColumns {
    /// Must be positioned on a row (by a GRDB cursor over the same statement).
    let statement: SQLiteStatement

    /// Column 0 as text; nil when NULL. Valid until the cursor moves.
    var groupText: UnsafeRawBufferPointer? {
        guard let text = sqlite3_column_text(statement, 0) else { return nil }
        return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, 0)))
    }

    var groupInteger: Int { Int(sqlite3_column_int64(statement, 0)) }

    var groupReal: Double { sqlite3_column_double(statement, 0) }

    var sample: StatsSample {
        StatsSample(
            status: integer(1), isCacheHit: isCacheHit,
            promptTokens: integer(3), completionTokens: integer(4), tokensSaved: integer(5),
            cost: sqlite3_column_double(statement, 6), costSaved: sqlite3_column_double(statement, 7),
            latencyMs: sqlite3_column_double(statement, 8))
    }

    /// Column 2, the cache outcome, is `hit`, `coalesced` or `stale`: the outcomes
    /// for which `CacheOutcome.countsAsCacheHit` holds.
    private var isCacheHit: Bool {
        guard let text = sqlite3_column_text(statement, 2) else { return false }
        let count = Int(sqlite3_column_bytes(statement, 2))
        return Self.text(text, count: count, is: "hit") || Self.text(text, count: count, is: "coalesced")
            || Self.text(text, count: count, is: "stale")
    }

    private func integer(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(statement, column))
    }

    private static func text(_ text: UnsafePointer<UInt8>, count: Int, is outcome: StaticString) -> Bool {
        count == outcome.utf8CodeUnitCount && memcmp(text, outcome.utf8Start, count) == 0
    }
}
