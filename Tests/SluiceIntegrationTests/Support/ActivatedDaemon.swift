import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `sluice serve` started the way systemd starts a socket-activated service:
/// listening sockets already open as descriptors 3, 4, … and `LISTEN_FDS`,
/// `LISTEN_PID` (the daemon's own pid) and `LISTEN_FDNAMES` set.
///
/// Foundation's `Process` can neither place descriptors at fixed numbers nor
/// know the child's pid before it runs, so this spawns `/bin/sh` with
/// `posix_spawn`, `dup2`s the sockets into place, and lets the shell export
/// `LISTEN_PID=$$` before it `exec`s the daemon (the pid survives the exec).
final class ActivatedDaemon: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let processIdentifier: pid_t
    let standardOutputPath: String
    let standardErrorPath: String
    private let exitStatus = LockedBox<DaemonExit?>(nil)

    /// Starts `sluice <arguments>` with `sockets` as descriptors 3, 4, … named by `names`.
    ///
    /// - Parameter environment: the whole environment apart from the `LISTEN_*` variables.
    init(
        arguments: [String], sockets: [ListeningSocket], names: [String],
        environment: [String: String], in directory: TemporaryDirectory, name: String = "activated"
    ) throws {
        standardOutputPath = directory.file("\(name).stdout")
        standardErrorPath = directory.file("\(name).stderr")
        var environment = environment
        environment["LISTEN_FDS"] = String(sockets.count)
        environment["LISTEN_FDNAMES"] = names.joined(separator: ":")

        let binary = try SluiceBinary.locate().path
        let script = #"export LISTEN_PID=$$; exec "$0" "$@""#
        let plan = SpawnPlan(sockets: sockets, standardOutput: standardOutputPath, standardError: standardErrorPath)
        processIdentifier = try plan.spawn(
            "/bin/sh", arguments: ["/bin/sh", "-c", script, binary] + arguments,
            environment: environment.map { "\($0.key)=\($0.value)" })
    }

    deinit {
        if exitStatus.current == nil {
            kill(processIdentifier, SIGKILL)
            _ = reap(options: 0)
        }
    }

    var standardOutput: String { (try? String(contentsOfFile: standardOutputPath, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOfFile: standardErrorPath, encoding: .utf8)) ?? "" }

    /// Whether the process still runs (reaps it when it has ended).
    var isRunning: Bool { reap(options: WNOHANG) == nil }

    func send(signal: Int32) {
        kill(processIdentifier, signal)
    }

    /// Waits for the process to end; fails after `timeout`.
    func waitForExit(timeout: Duration = .seconds(10)) async throws -> DaemonExit {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let exit = reap(options: WNOHANG) { return exit }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "the activated daemon still runs \(timeout) after it was asked to stop; stderr:\n\(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Kills the daemon if it still runs and waits for it to be gone.
    func stop() async {
        guard isRunning else { return }
        send(signal: SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(5))
    }

    /// The exit, once known; `waitpid` is called only until it has been seen.
    private func reap(options: CInt) -> DaemonExit? {
        exitStatus.withLock { known in
            if let known { return known }
            var status: CInt = 0
            guard waitpid(processIdentifier, &status, options) == processIdentifier else { return nil }
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
            let signal = status & 0x7f
            known = signal == 0
                ? DaemonExit(cause: .exited, code: (status >> 8) & 0xff)
                : DaemonExit(cause: .signalled, code: signal)
            return known
        }
    }
}

/// The `posix_spawn` file actions and attributes of an activated start.
private struct SpawnPlan {
    let sockets: [ListeningSocket]
    let standardOutput: String
    let standardError: String

    func spawn(_ path: String, arguments: [String], environment: [String]) throws -> pid_t {
        // Copies above every target number, so that no dup2 overwrites a socket
        // that a later one still has to move; close-on-exec like the originals.
        let sources = try sockets.map { socket in
            let copy = fcntl(socket.descriptor, F_DUPFD_CLOEXEC, 16)
            guard copy >= 0 else { throw ActivatedDaemon.Failure(description: "F_DUPFD_CLOEXEC failed: errno \(errno)") }
            return copy
        }
        defer { sources.forEach { close($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for (offset, source) in sources.enumerated() {
            // dup2 clears close-on-exec on the copy at 3 + offset.
            posix_spawn_file_actions_adddup2(&actions, source, 3 + CInt(offset))
        }

        // Signals as a service manager leaves them: none blocked, all at their defaults
        // (the test process may block or ignore some on the spawning thread).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw ActivatedDaemon.Failure(description: "posix_spawn \(path) failed: error \(result)")
        }
        return pid
    }
}
