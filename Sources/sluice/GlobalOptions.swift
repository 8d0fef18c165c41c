import ArgumentParser
import SluiceCore

/// The settings flags shared by every subcommand that needs the configuration.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Config file (YAML). Also SLUICE_CONFIG.")
    var configFile: String?

    @Option(name: .customLong("db"), help: "Database file. Also SLUICE_DB.")
    var databasePath: String?

    /// Resolves flag > env > file > default. Placeholder until the config loader lands.
    func resolveSettings() throws -> Settings {
        Settings(unixSocketPath: nil, databasePath: databasePath ?? "sluice.db")
    }
}
