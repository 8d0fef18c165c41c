import Foundation

/// The real `sluice serve`, started as a child process for one test.
///
/// Its stdout and stderr go to files in the test folder so tests can read the
/// logs (and look for secrets in them). `stop()` kills it if it still runs.
final class DaemonProcess: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let launch: DaemonLaunch
    let tcpPort: Int?
    let socketPath: String?
    let databasePath: String
    let standardOutputPath: String
    let standardErrorPath: String
    private let process: Process

    /// Starts the daemon without waiting for it to serve (see `waitUntilHealthy`).
    init(_ launch: DaemonLaunch, in directory: TemporaryDirectory) throws {
        self.launch = launch
        tcpPort = launch.tcp ? try launch.tcpPort ?? FreePort.make() : nil
        socketPath = launch.unix ? (launch.socketPath ?? directory.file("\(launch.name).sock")) : nil
        databasePath = launch.databasePath ?? directory.file("\(launch.name).db")
        standardOutputPath = directory.file("\(launch.name).stdout")
        standardErrorPath = directory.file("\(launch.name).stderr")

        let process = Process()
        process.executableURL = try SluiceBinary.locate()
        process.arguments = ["serve",
                             "--tcp", tcpPort.map { "127.0.0.1:\($0)" } ?? "off",
                             "--unix", socketPath ?? "off",
                             "--db", databasePath,
                             "--upstream", launch.upstream] + launch.arguments
        process.environment = Self.environment(for: launch, home: directory.path)
        process.currentDirectoryURL = directory.url
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try Self.logFile(at: standardOutputPath)
        process.standardError = try Self.logFile(at: standardErrorPath)
        try process.run()
        self.process = process
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var standardOutput: String { Self.read(standardOutputPath) }
    var standardError: String { Self.read(standardErrorPath) }
    /// Everything the daemon printed, stdout then stderr.
    var logs: String { standardOutput + standardError }

    /// Where to send requests over `transport`; fails when that listener is off.
    func endpoint(_ transport: Transport) throws -> HTTPEndpoint {
        switch transport {
        case .tcp:
            guard let tcpPort else { throw Failure(description: "the daemon was started with --tcp off") }
            return .tcp(host: "127.0.0.1", port: tcpPort)
        case .unixSocket:
            guard let socketPath else { throw Failure(description: "the daemon was started with --unix off") }
            return .unixSocket(path: socketPath)
        }
    }

    /// Polls `GET /healthz` (TCP when on, else the socket) until it answers 200.
    func waitUntilHealthy(using client: TestHTTPClient, timeout: Duration = .seconds(20)) async throws {
        let endpoint = try endpoint(tcpPort == nil ? .unixSocket : .tcp)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw Failure(description: "sluice serve ended (\(exitNow())) before answering /healthz; stderr:\n\(standardError)")
            }
            if let answer = try? await client.get("/healthz", to: endpoint), answer.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "sluice serve did not answer /healthz on \(endpoint) within \(timeout); stderr:\n\(standardError)")
    }

    func send(signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end; fails after `timeout`.
    func waitForExit(timeout: Duration = .seconds(10)) async throws -> DaemonExit {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "sluice serve still runs \(timeout) after it was asked to stop; stderr:\n\(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return exitNow()
    }

    /// Kills the daemon if it still runs and waits for it to be gone.
    func stop() async {
        guard process.isRunning else { return }
        send(signal: SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(5))
    }

    private func exitNow() -> DaemonExit {
        guard !process.isRunning else { return DaemonExit(cause: .exited, code: -1) }
        let cause: DaemonExit.Cause = process.terminationReason == .uncaughtSignal ? .signalled : .exited
        return DaemonExit(cause: cause, code: process.terminationStatus)
    }

    /// A clean environment: nothing from the developer's shell (no real keys, no SLUICE_*),
    /// HOME in the test folder so default paths stay inside it.
    private static func environment(for launch: DaemonLaunch, home: String) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
        ]
        if let key = launch.upstreamKey {
            environment["VERCEL_AI_GATEWAY_API_KEY"] = key
        }
        environment.merge(launch.environment) { _, test in test }
        return environment
    }

    private static func logFile(at path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw Failure(description: "could not create \(path)")
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
