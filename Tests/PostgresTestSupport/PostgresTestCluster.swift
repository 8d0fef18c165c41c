import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// A throwaway PostgreSQL cluster: `initdb` into a temporary folder, started
/// on a free loopback port and on a Unix socket in that folder, with a role
/// `sluice` that logs in with a password over TCP. `stop()` stops the server
/// and deletes the folder.
///
/// PostgreSQL refuses to run as root, so when the tests run as root every
/// server command runs as the `postgres` user (the Debian package creates it),
/// and the folder is handed to that user.
///
/// Needs the server binaries (Debian's `postgresql` package; `.ci/run` installs
/// it): without them starting fails, unless `SLUICE_SKIP_POSTGRES_TESTS=1`.
public final class PostgresTestCluster: @unchecked Sendable {
    public let folder: String
    public let port: Int
    /// The Unix socket folder (local logins need no password).
    public let socketDirectory: String
    public let role = "sluice"
    public let password: String
    /// The server's certificate (CN and SAN `localhost`, 127.0.0.1) when started with TLS.
    public let certificatePath: String?
    private let binaries: String
    private var databaseCount = 0
    private let lock = NSLock()

    private init(folder: String, port: Int, password: String, certificatePath: String?, binaries: String) {
        self.folder = folder
        self.port = port
        self.socketDirectory = folder + "/socket"
        self.password = password
        self.certificatePath = certificatePath
        self.binaries = binaries
    }

    /// Creates, starts and prepares a cluster; with `tls`, the server also speaks TLS.
    public static func start(tls: Bool = false) throws -> PostgresTestCluster {
        let binaries = try locateBinaries()
        let folder = NSTemporaryDirectory() + "sluice-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder + "/socket", withIntermediateDirectories: true)
        let password = "pw-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var certificatePath: String?
        if tls {
            try run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", folder + "/server.key", "-out", folder + "/server.crt",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
            chmod(folder + "/server.key", 0o600)
            certificatePath = folder + "/server.crt"
        }
        let cluster = PostgresTestCluster(
            folder: folder, port: try freeLoopbackPort(), password: password,
            certificatePath: certificatePath, binaries: binaries)
        do {
            try cluster.handToServerUser()
            try cluster.initialise()
            try cluster.startServer(tls: tls)
            try cluster.psql("CREATE ROLE \(cluster.role) LOGIN PASSWORD '\(password)'")
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    /// A new, empty database owned by `role`; returns its name.
    public func createDatabase() throws -> String {
        let name = lock.withLock { () -> String in
            databaseCount += 1
            return "sluice_test_\(databaseCount)"
        }
        try psql("CREATE DATABASE \(name) OWNER \(role)")
        return name
    }

    /// Runs `sql` as the superuser over the Unix socket; returns what psql printed (unaligned, no headers).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try runAsServerUser(binaries + "/psql", [
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", "\(port)",
            "-U", "postgres", "-d", database, "-c", sql,
        ])
    }

    /// The URL of `database` over TCP, with the role's password.
    public func url(database: String, sslMode: String = "disable", extra: String = "") -> String {
        "postgresql://\(role):\(password)@127.0.0.1:\(port)/\(database)?sslmode=\(sslMode)\(extra)"
    }

    /// Stops the server at once and deletes the folder.
    public func stop() {
        if FileManager.default.fileExists(atPath: folder + "/data/postmaster.pid") {
            _ = try? runAsServerUser(binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "-t", "30", "stop"])
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Stops the server, keeping its data (an outage); `resume()` starts it again.
    public func pause() throws {
        try runAsServerUser(binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "-t", "30", "stop"])
    }

    /// Starts the server `pause()` stopped, on the same port.
    public func resume() throws {
        try startServer(tls: certificatePath != nil)
    }

    // MARK: Setting up

    private func initialise() throws {
        try runAsServerUser(binaries + "/initdb", [
            "-D", folder + "/data", "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
            "--no-sync", "-E", "UTF8", "--locale=C",
        ])
    }

    private func startServer(tls: Bool) throws {
        // Durability is not wanted here: no fsync keeps the suite fast.
        var options = "-p \(port) -k \(socketDirectory) -c listen_addresses=127.0.0.1"
            + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if tls {
            options += " -c ssl=on -c ssl_cert_file=\(folder)/server.crt -c ssl_key_file=\(folder)/server.key"
        }
        do {
            try runAsServerUser(binaries + "/pg_ctl", [
                "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "30", "-o", options, "start",
            ])
        } catch {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw Failure(description: "\(error)\nserver log:\n\(log)")
        }
    }

    /// Gives the folder to the `postgres` user when running as root.
    private func handToServerUser() throws {
        guard getuid() == 0 else { return }
        guard let user = getpwnam("postgres") else {
            throw Failure(description: "running as root, but there is no `postgres` user to run PostgreSQL as")
        }
        let (uid, gid) = (user.pointee.pw_uid, user.pointee.pw_gid)
        chown(folder, uid, gid)
        let entries = FileManager.default.enumerator(atPath: folder)
        while let entry = entries?.nextObject() as? String {
            chown(folder + "/" + entry, uid, gid)
        }
    }

    @discardableResult
    private func runAsServerUser(_ executable: String, _ arguments: [String]) throws -> String {
        if getuid() == 0 {
            return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        }
        return try Self.run(executable, arguments)
    }

    // MARK: Finding PostgreSQL

    /// The folder of `initdb`, `pg_ctl`, `postgres` and `psql`: the newest
    /// `/usr/lib/postgresql/N/bin`, else the folder `initdb` on PATH resolves to.
    static func locateBinaries() throws -> String {
        let tools = ["initdb", "pg_ctl", "postgres", "psql"]
        func complete(_ folder: String) -> Bool {
            tools.allSatisfy { FileManager.default.isExecutableFile(atPath: folder + "/" + $0) }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where complete("\(root)/\(version)/bin") {
            return "\(root)/\(version)/bin"
        }
        let environment = ProcessInfo.processInfo.environment
        for folder in (environment["PATH"] ?? "").split(separator: ":") {
            let initdb = URL(fileURLWithPath: String(folder)).appendingPathComponent("initdb")
            let resolved = initdb.resolvingSymlinksInPath().deletingLastPathComponent().path
            if FileManager.default.isExecutableFile(atPath: initdb.path), complete(resolved) {
                return resolved
            }
        }
        if environment["SLUICE_SKIP_POSTGRES_TESTS"] == "1" {
            throw XCTSkip("the PostgreSQL server is not installed and SLUICE_SKIP_POSTGRES_TESTS=1")
        }
        throw Failure(description: """
            the PostgreSQL server is not installed: the PostgreSQL store tests need initdb, pg_ctl and postgres \
            (`apt-get install postgresql`; .ci/run installs it). Set SLUICE_SKIP_POSTGRES_TESTS=1 to skip them.
            """)
    }

    // MARK: Processes and ports

    /// Runs `executable` and waits for it; returns what it printed (stdout and
    /// stderr, through a file: `pg_ctl start` leaves a server behind that must
    /// not hold a pipe of ours open).
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "sluice-pg-output-" + UUID().uuidString
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Exited normally with 0 (the low 7 bits hold a terminating signal).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let command = ([executable] + arguments.prefix(3)).joined(separator: " ")
            throw Failure(description: "\(command) ... failed (wait status \(status)): \(text)")
        }
        return text
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    public static func freeLoopbackPort() throws -> Int {
        let socket = try LoopbackSocket()
        return socket.port
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }
}
