import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'sluice config' is not built yet")
    }
}
