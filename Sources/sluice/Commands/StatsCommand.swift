import ArgumentParser

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'sluice stats' is not built yet")
    }
}
