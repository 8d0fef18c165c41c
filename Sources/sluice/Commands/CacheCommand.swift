import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice cache`: inspect and empty the response cache.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Inspect and empty the response cache.",
        subcommands: [Stats.self, Purge.self]
    )

    /// `sluice cache stats`
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the number, size and hits of cached answers, per model.",
            discussion: "Reads the database without writing to it, so it works while `sluice serve` runs."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let statistics: CacheStatistics
            switch try options.resolveSettings().database {
            case .sqlite(let path):
                statistics = try CacheStore(database: SluiceDatabase.openReadOnly(path: path)).statistics()
            case .postgresql(let url):
                statistics = try await FleetDatabase.with(url) { try await PostgresCacheStore(database: $0).statistics() }
            }
            print(CacheStatisticsFormatter.render(statistics), terminator: "")
        }
    }

    /// `sluice cache purge`
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete cached answers by model and/or age, or all of them with --all.",
            discussion: """
                When `sluice serve` listens on the Unix socket (--unix), the daemon purges, memory included, \
                so no purged answer is served once this returns; with no daemon there, the database file is purged. \
                With a postgresql:// database the fleet's cache is purged, and every daemon drops its in-memory \
                copies within 100 ms: the command waits that long before it returns.
                """
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

        func run() async throws {
            let now = Date().timeIntervalSince1970
            let cutoff = try olderThan.map { try StatsTimeArgument.olderThan($0, now: now) }
            let settings = try options.resolveSettings()
            let deleted: Int
            switch settings.database {
            case .postgresql(let url):
                let (model, all) = (self.model, self.all)
                deleted = try await FleetDatabase.with(url) {
                    try await PostgresCacheStore(database: $0).purge(model: model, olderThan: cutoff, all: all)
                }
                // Each daemon checks for purges every 100 ms (cache_purges).
                if deleted > 0 { try await Task.sleep(for: .milliseconds(250)) }
            case .sqlite(let path):
                guard FileManager.default.fileExists(atPath: path) else {
                    throw SluiceStoreError.missing(path: path)
                }
                // A running daemon purges itself, memory included, so that no purged
                // answer is served once this returns; without one, the file is enough.
                if let socketPath = settings.unixSocketPath,
                   let purged = try purgeThroughDaemon(socketPath: socketPath, olderThanSeconds: cutoff.map { now - $0 }) {
                    deleted = purged
                } else {
                    let database = try SluiceDatabase.open(path: path)
                    deleted = try CacheStore(database: database).purge(model: model, olderThan: cutoff, all: all)
                }
            }
            print("purged \(deleted) cache \(deleted == 1 ? "entry" : "entries")")
        }

        /// Asks the daemon on `socketPath` to purge; nil when none listens there.
        private func purgeThroughDaemon(socketPath: String, olderThanSeconds: Double?) throws -> Int? {
            var request: [JSONMember] = []
            if let model { request.append(JSONMember(name: "model", value: .string(model))) }
            if let olderThanSeconds { request.append(JSONMember(name: "older_than_seconds", value: .number("\(olderThanSeconds)"))) }
            if all { request.append(JSONMember(name: "all", value: .bool(true))) }
            guard let answer = try DaemonControl.post(
                "/sluice/cache/purge", json: CanonicalJSON.encode(.object(request)), socketPath: socketPath)
            else { return nil }
            let body = try? JSONParser.parse(answer.body)
            if answer.status == 200, let purged = body?["purged"]?.intValue {
                return purged
            }
            let reason = body?["error"]?["message"]?.stringValue ?? "HTTP status \(answer.status)"
            throw DaemonControl.Failure(description: "the daemon at \(socketPath) did not purge: \(reason)")
        }
    }
}
