import ArgumentParser

/// The `sluice` binary: one root command, one subcommand per job.
@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A caching and rate-limiting sidecar for OpenAI-compatible LLM gateways.",
        version: SluiceVersion.current,
        subcommands: [
            ServeCommand.self,
            StatsCommand.self,
            CacheCommand.self,
            MigrateCommand.self,
            ConfigCommand.self,
        ]
    )
}

enum SluiceVersion {
    static let current = "0.1.0"
}
