import ArgumentParser

struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cache", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'sluice cache' is not built yet")
    }
}
