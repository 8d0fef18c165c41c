import ArgumentParser
import Foundation
import SluiceStore

/// `sluice migrate`: brings the database schema up to date (`serve` also does this at start).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create the database or apply the migrations it lacks.",
        discussion: """
            The migrations are the SQL files of migrations/ (migrations/postgresql/ for a postgresql:// database), \
            built into the binary. Each applies once, in order.
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        umask(0o077)  // a new database file is private to its user, as `serve` makes it
        let location = try options.resolveSettings().database
        let applied: [String]
        switch location {
        case .sqlite(let path):
            applied = try SluiceDatabase.open(path: path).migrationsAppliedAtOpen
        case .postgresql(let url):
            applied = try await FleetDatabase.with(url, migrate: true) { $0.migrationsAppliedAtOpen }
        }
        if applied.isEmpty {
            print("\(location.redacted): up to date")
        } else {
            for identifier in applied {
                print("applied \(identifier)")
            }
        }
    }
}
