import Foundation

/// What a finished `sluice` subcommand left behind.
struct CommandResult: Sendable {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String
    /// Whether the process was killed by a signal (a trap) instead of exiting.
    var killedBySignal = false
}

/// Runs a `sluice` subcommand (`stats`, `cache stats`, `config check`, …) to the end.
enum SluiceCommand {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `sluice <arguments>` with only `environment` (plus PATH and HOME=`directory`).
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        in directory: TemporaryDirectory,
        timeout: Duration = .seconds(20)
    ) async throws -> CommandResult {
        let label = UUID().uuidString.prefix(8)
        let outputPath = directory.file("command-\(label).stdout")
        let errorPath = directory.file("command-\(label).stderr")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
              FileManager.default.createFile(atPath: errorPath, contents: nil) else {
            throw Failure(description: "could not create output files in \(directory.path)")
        }

        let process = Process()
        process.executableURL = try SluiceBinary.locate()
        process.arguments = arguments
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path,
            "LANG": "C.UTF-8",
        ].merging(environment) { _, given in given }
        process.currentDirectoryURL = directory.url
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()

        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                throw Failure(description: "`sluice \(arguments.joined(separator: " "))` did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CommandResult(
            exitCode: process.terminationStatus,
            standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
            killedBySignal: process.terminationReason == .uncaughtSignal
        )
    }
}
