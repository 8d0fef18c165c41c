import ArgumentParser
import Foundation
import SluiceStore

/// `sluice migrate`: brings the database schema up to date (`serve` also does this at start).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create the database or apply the migrations it lacks.",
        discussion: "The migrations are the SQL files of migrations/, built into the binary. Each applies once, in order."
    )

    @OptionGroup var options: GlobalOptions

    func run() throws {
        umask(0o077)  // a new database file is private to its user, as `serve` makes it
        let path = try options.resolveSettings().databasePath
        let database = try SluiceDatabase.open(path: path)
        if database.migrationsAppliedAtOpen.isEmpty {
            print("\(path): up to date")
        } else {
            for identifier in database.migrationsAppliedAtOpen {
                print("applied \(identifier)")
            }
        }
    }
}
