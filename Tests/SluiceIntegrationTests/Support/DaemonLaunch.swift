/// How to start one `sluice serve`: the flags and environment a test wants on
/// top of the harness's own (`--tcp`, `--unix`, `--db`, `--upstream`).
struct DaemonLaunch: Sendable {
    /// The credential the daemon gets as `VERCEL_AI_GATEWAY_API_KEY`.
    static let upstreamKey = "test-upstream-key"

    var upstream: String
    /// Listen on TCP on 127.0.0.1 (`false` passes `--tcp off`).
    var tcp = true
    /// The TCP port; by default a free one.
    var tcpPort: Int?
    /// Listen on a Unix socket (`false` passes `--unix off`).
    var unix = true
    /// The socket file; by default `<name>.sock` in the test's folder.
    var socketPath: String?
    /// The database file; by default `<name>.db` in the test's folder.
    var databasePath: String?
    /// More flags, e.g. `["--max-body", "1KiB"]`.
    var arguments: [String] = []
    /// More environment, e.g. `VERCEL_APP_NAME`.
    var environment: [String: String] = [:]
    /// `nil` starts the daemon without an upstream credential.
    var upstreamKey: String? = DaemonLaunch.upstreamKey
    /// Names the files of this daemon in the test folder (`<name>.db`, `<name>.stderr`, …).
    var name = "sluice"

    init(upstream: String) {
        self.upstream = upstream
    }
}

/// How a daemon process ended.
struct DaemonExit: Equatable, CustomStringConvertible, Sendable {
    enum Cause: Sendable { case exited, signalled }

    var cause: Cause
    /// The exit status, or the number of the signal that ended the process.
    var code: Int32

    static let success = DaemonExit(cause: .exited, code: 0)

    var description: String {
        switch cause {
        case .exited: "exit status \(code)"
        case .signalled: "killed by signal \(code)"
        }
    }
}
