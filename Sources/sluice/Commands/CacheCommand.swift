import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice cache`: inspect and empty the response cache.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Inspect and empty the response cache.",
        subcommands: [Stats.self, Purge.self]
    )

    /// `sluice cache stats`
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the number, size and hits of cached answers, per model.",
            discussion: "Reads the database without writing to it, so it works while `sluice serve` runs."
        )

        @OptionGroup var options: GlobalOptions

        func run() throws {
            let database = try SluiceDatabase.openReadOnly(path: options.resolveSettings().databasePath)
            let statistics = try CacheStore(database: database).statistics()
            print(CacheStatisticsFormatter.render(statistics), terminator: "")
        }
    }

    /// `sluice cache purge`
    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete cached answers by model and/or age, or all of them with --all."
        )

        @OptionGroup var options: GlobalOptions

        @Option(help: "Only answers for this model.")
        var model: String?

        @Option(help: ArgumentHelp("Only answers stored longer ago than this (90s, 15m, 24h, 7d).", valueName: "duration"))
        var olderThan: String?

        @Flag(help: "Delete every cached answer.")
        var all = false

        func validate() throws {
            if model == nil && olderThan == nil && !all {
                throw ValidationError("nothing to purge: give --model and/or --older-than, or pass --all to delete every entry")
            }
        }

        func run() throws {
            let cutoff = try olderThan.map { try StatsTimeArgument.olderThan($0, now: Date().timeIntervalSince1970) }
            let path = try options.resolveSettings().databasePath
            guard FileManager.default.fileExists(atPath: path) else {
                throw SluiceStoreError.missing(path: path)
            }
            let database = try SluiceDatabase.open(path: path)
            let deleted = try CacheStore(database: database).purge(model: model, olderThan: cutoff, all: all)
            print("purged \(deleted) cache \(deleted == 1 ? "entry" : "entries")")
        }
    }
}
