import XCTest

/// Base class of the daemon tests: a fresh folder, a fake gateway and an HTTP
/// client per test, and the daemons the test starts, all torn down after it.
/// On failure the daemons' stderr is attached to the test's output.
class DaemonTestCase: XCTestCase {
    private(set) var directory: TemporaryDirectory!
    private(set) var gateway: FakeGateway!
    private(set) var http: TestHTTPClient!
    private var daemons: [DaemonProcess] = []

    override func setUp() async throws {
        try await super.setUp()
        directory = try TemporaryDirectory()
        gateway = try await FakeGateway.start()
        http = TestHTTPClient()
    }

    override func tearDown() async throws {
        for daemon in daemons {
            await daemon.stop()
            if let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
                print("--- stderr of \(daemon.launch.name) (\(name)) ---\n\(daemon.standardError.suffix(4000))")
            }
        }
        daemons = []
        await http?.shutdown()
        await gateway?.stop()
        directory?.remove()
        try await super.tearDown()
    }

    /// A launch pointed at this test's fake gateway.
    func defaultLaunch() -> DaemonLaunch {
        DaemonLaunch(upstream: gateway.baseURL)
    }

    /// Starts `sluice serve` and waits until it answers `/healthz`.
    @discardableResult
    func startDaemon(_ launch: DaemonLaunch? = nil) async throws -> DaemonProcess {
        let daemon = try launchDaemon(launch)
        try await daemon.waitUntilHealthy(using: http)
        return daemon
    }

    /// Starts `sluice serve` without waiting for it (for daemons expected to fail).
    func launchDaemon(_ launch: DaemonLaunch? = nil) throws -> DaemonProcess {
        let daemon = try DaemonProcess(launch ?? defaultLaunch(), in: directory)
        daemons.append(daemon)
        return daemon
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func eventually(
        within timeout: Duration = .seconds(3), _ condition: () -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
