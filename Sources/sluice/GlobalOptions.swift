import ArgumentParser
import Foundation
import SluiceCore

/// The settings flags shared by every subcommand that needs the configuration.
///
/// Each flag beats its `SLUICE_*` variable, which beats the config file, which
/// beats the default (see `SettingsResolver`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("Config file (YAML). Also SLUICE_CONFIG.", valueName: "file"))
    var configFile: String?

    @Option(name: .customLong("tcp"), help: ArgumentHelp("TCP listener, or off. Also SLUICE_TCP.", valueName: "host:port"))
    var tcp: String?

    @Option(name: .customLong("unix"), help: ArgumentHelp("Unix socket, or off. Also SLUICE_UNIX.", valueName: "path"))
    var unixSocket: String?

    @Option(name: .customLong("db"), help: ArgumentHelp("Database file. Also SLUICE_DB.", valueName: "path"))
    var databasePath: String?

    @Option(name: .customLong("upstream"), help: ArgumentHelp("Upstream base URL. Also SLUICE_UPSTREAM.", valueName: "url"))
    var upstream: String?

    @Option(
        name: .customLong("upstream-timeout"),
        help: ArgumentHelp("No byte from upstream for this long gives 504, e.g. 300s. Also SLUICE_UPSTREAM_TIMEOUT.", valueName: "duration")
    )
    var upstreamTimeout: String?

    @Option(name: .customLong("max-body"), help: ArgumentHelp("Largest request body, e.g. 16MiB. Also SLUICE_MAX_BODY.", valueName: "size"))
    var maxBody: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Also SLUICE_LOG_LEVEL.", valueName: "level")
    )
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text or json. Also SLUICE_LOG_FORMAT.", valueName: "format"))
    var logFormat: String?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp("Close a connection that sends no complete request this long, e.g. 60s. Also SLUICE_IDLE_TIMEOUT.", valueName: "duration")
    )
    var idleTimeout: String?

    @Option(
        name: .customLong("max-connections"),
        help: ArgumentHelp("Most connections open at once; more are closed at once. Also SLUICE_MAX_CONNECTIONS.", valueName: "n")
    )
    var maxConnections: String?

    @Option(
        name: .customLong("shutdown-timeout"),
        help: ArgumentHelp("After SIGTERM, how long requests in flight may run, e.g. 30s. Also SLUICE_SHUTDOWN_TIMEOUT.", valueName: "duration")
    )
    var shutdownTimeout: String?

    /// The flags given on the command line, as raw text for `SettingsResolver`.
    var flagValues: [SettingName: String] {
        let values: [SettingName: String?] = [
            .tcp: tcp, .unix: unixSocket, .db: databasePath, .upstream: upstream,
            .upstreamTimeout: upstreamTimeout, .maxBody: maxBody, .logLevel: logLevel, .logFormat: logFormat,
            .idleTimeout: idleTimeout, .maxConnections: maxConnections, .shutdownTimeout: shutdownTimeout,
        ]
        return values.compactMapValues { $0 }
    }

    /// The effective settings: flag > env > file > default.
    func resolveSettings() throws -> Settings {
        let environment = ProcessInfo.processInfo.environment
        let file = try SettingsResolver.FileText.load(configFlag: configFile, environment: environment, readFile: TextFile.contents)
        return try SettingsResolver.resolve(file: file, environment: environment, flags: flagValues)
    }

    /// The settings plus the upstream credential and attribution. Reads the
    /// config file again on every call, so `serve` can call it on `SIGHUP`.
    func loadConfiguration() throws -> Configuration {
        try Configuration.load(
            configFlag: configFile, flags: flagValues, environment: ProcessInfo.processInfo.environment,
            readFile: TextFile.contents
        )
    }
}

/// Reads small text files (the config file, a systemd credential) with errors
/// short enough for one line on stderr.
enum TextFile {
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    /// The file's text; `nil` when it does not exist.
    static func contents(_ path: String) throws -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw ReadError(description: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: String(cString: strerror(errno)))
            }
            bytes.append(contentsOf: chunk[..<count])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ReadError(description: "not UTF-8 text")
        }
        return text
    }
}
