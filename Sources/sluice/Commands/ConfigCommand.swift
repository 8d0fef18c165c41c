import ArgumentParser
import SluiceCore

/// `sluice config ...`: work with the configuration.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration.",
        subcommands: [Check.self],
        defaultSubcommand: Check.self
    )

    /// `sluice config check`: validate, then print the effective settings with secrets masked.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the configuration and print the effective settings (secrets masked).",
            discussion: """
                Reads the config file, the SLUICE_* environment variables and the flags below \
                (flag beats env beats file beats default), checks them all and prints the result. \
                Client keys appear only as name and key id, the upstream credential only masked. \
                Exits non-zero with one line on stderr if anything is wrong.
                """
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.loadConfiguration()
            print(SettingsReport.render(configuration), terminator: "")
        }
    }
}
