import ArgumentParser
import Foundation
import Logging
import SluiceCore
import SluiceServer

/// `sluice serve`: the daemon in the foreground (what systemd runs).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon in the foreground.",
        discussion: "Listens on TCP and on a Unix socket, answers repeats from the cache, applies rate limits, and forwards the rest to the upstream gateway. SIGTERM/SIGINT stop it gracefully; SIGHUP reloads keys, limits and the upstream credential file."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        // What the daemon creates (state folder, database, its log) holds answers
        // and usage: private to its user. The socket's mode is set explicitly.
        umask(0o077)
        let configuration = try options.loadConfiguration()
        let settings = configuration.settings
        let logger = LogSetup.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let environment = ProcessInfo.processInfo.environment

        var daemonOptions = DaemonOptions(settings: settings, identity: configuration.upstream)
        daemonOptions.inheritedSockets = SocketActivation.inheritedSockets(environment: environment)
        SocketActivation.removeVariablesFromEnvironment()
        daemonOptions.notifier = SystemdNotifier(environment: environment)
        daemonOptions.watchdog = WatchdogService(environment: environment)
        let options = self.options
        daemonOptions.reloadConfiguration = { try options.loadConfiguration() }
        if configuration.upstream.credential == nil {
            logger.notice("no upstream credential: requests without their own bearer will be refused (set VERCEL_AI_GATEWAY_API_KEY)")
        } else if let credential = configuration.upstream.credential {
            logger.info("upstream credential loaded", metadata: ["source": "\(credential.source)"])
        }

        let daemon = try await Daemon.start(daemonOptions, logger: logger)
        try await daemon.run()
    }
}

/// Installs the process-wide log handler: text or JSON lines on stderr (the journal).
enum LogSetup {
    static func bootstrap(level: LogLevelSetting, format: LogFormat) -> Logger {
        let logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label)
            }
            handler.logLevel = logLevel
            return handler
        }
        return Logger(label: "sluice")
    }
}
