import Foundation
import Logging
import SluiceCore
import SluiceServer

/// Calendar time that moves only when a test moves it, for cache ages and TTLs.
final class ManualWallClock: WallClock {
    private let seconds: LockedBox<Double>

    /// - Parameter start: unix seconds; by default 2026-01-01T00:00:00Z.
    init(start: Double = 1_767_225_600) {
        seconds = LockedBox(start)
    }

    func now() -> Double {
        seconds.current
    }

    func advance(by duration: Duration) {
        let (whole, attoseconds) = duration.components
        seconds.withLock { $0 += Double(whole) + Double(attoseconds) / 1e18 }
    }
}

/// The real `Daemon`, started inside the test process on a `ManualWallClock`,
/// listening on a kernel-chosen TCP port only, with signals left alone.
///
/// Used where a test must move calendar time (TTL and `max-age`); everything
/// else starts the `sluice` binary through `DaemonProcess`.
final class InProcessDaemon: Sendable {
    /// The credential the daemon sends upstream.
    static let upstreamKey = "test-upstream-key"

    let clock: ManualWallClock
    let endpoint: HTTPEndpoint
    private let daemon: Daemon
    private let runTask: Task<Void, any Error>

    private init(clock: ManualWallClock, endpoint: HTTPEndpoint, daemon: Daemon, runTask: Task<Void, any Error>) {
        self.clock = clock
        self.endpoint = endpoint
        self.daemon = daemon
        self.runTask = runTask
    }

    /// Starts a daemon on `databasePath` that forwards to `upstream`; it serves
    /// once this returns (the listener is bound by `Daemon.start`).
    static func start(
        upstream: String, databasePath: String, cache: CacheSettings = CacheSettings(),
        clock: ManualWallClock = ManualWallClock()
    ) async throws -> InProcessDaemon {
        let settings = Settings(
            tcp: HostAndPort(host: "127.0.0.1", port: 0), unixSocketPath: nil,
            databasePath: databasePath, upstream: upstream, cache: cache, shutdownTimeout: .seconds(2))
        var options = DaemonOptions(
            settings: settings,
            identity: UpstreamIdentity(credential: UpstreamCredential(secret: upstreamKey, source: .apiKeyVariable)))
        options.clock = clock
        options.handleSignals = false

        var logger = Logger(label: "sluice-in-process")
        logger.logLevel = .warning
        let daemon = try await Daemon.start(options, logger: logger)
        guard let port = daemon.tcpPort else {
            await daemon.shutdown()
            throw StartFailure(description: "the in-process daemon reports no TCP port")
        }
        let runTask = Task { try await daemon.run() }
        return InProcessDaemon(clock: clock, endpoint: .tcp(host: "127.0.0.1", port: port), daemon: daemon, runTask: runTask)
    }

    /// Stops gracefully and waits until the daemon has closed everything.
    func stop() async throws {
        await daemon.shutdown()
        try await runTask.value
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }
}
