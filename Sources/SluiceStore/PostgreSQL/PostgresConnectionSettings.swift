import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The connection settings a `PostgresURL` and the timeouts give, for the
/// pool and for single connections (`open`'s first one, which reports why a
/// connection fails where the pool would only retry).
struct PostgresConnectionSettings: Sendable {
    let url: PostgresURL
    let timeouts: PostgresTimeouts

    /// Sent at login: the server then ends any statement running longer than
    /// the query timeout by itself, and names the client in `pg_stat_activity`.
    var startupParameters: [(String, String)] {
        [("application_name", "sluice"), ("statement_timeout", "\(PostgresTimeouts.milliseconds(timeouts.query))")]
    }

    func clientConfiguration(maximumConnections: Int) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            switch url.tlsUse {
            case .never: tls = .disable
            case .ifOffered(let settings): tls = .prefer(settings)
            case .always(let settings): tls = .require(settings)
            }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: url.user, password: url.password, database: url.database, tls: tls)
        case .unixSocket(let directory, let port):
            configuration = PostgresClient.Configuration(
                unixSocketPath: Self.socketPath(directory: directory, port: port),
                username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = timeouts.connect
        configuration.options.additionalStartupParameters = startupParameters
        configuration.options.maximumConnections = max(1, maximumConnections)
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            do {
                switch url.tlsUse {
                case .never: tls = .disable
                case .ifOffered(let settings): tls = .prefer(try NIOSSLContext(configuration: settings))
                case .always(let settings): tls = .require(try NIOSSLContext(configuration: settings))
                }
            } catch {
                // The root file is missing or not PEM; its path is no secret.
                throw PostgresStoreError.cannotConnect(
                    server: url.server, reason: "cannot load the TLS roots (\(url.rootCertificatePath ?? "system")): \(error)")
            }
            configuration = PostgresConnection.Configuration(
                host: host, port: port, username: url.user, password: url.password, database: url.database, tls: tls)
        case .unixSocket(let directory, let port):
            configuration = PostgresConnection.Configuration(
                unixSocketPath: Self.socketPath(directory: directory, port: port),
                username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(PostgresTimeouts.milliseconds(timeouts.connect)) * 1_000_000)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// Opens one connection (within the connect timeout), runs `body` on it
    /// (within `limit`) and closes it. Failures are `PostgresStoreError`s
    /// naming `operation`.
    func withConnection<T: Sendable>(
        _ operation: String, logger: Logger, for limit: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let configuration = try connectionConfiguration()
        let connection: PostgresConnection
        do {
            connection = try await withPostgresDeadline(timeouts.connect) {
                try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            }
        } catch is PostgresDeadlinePassed {
            throw PostgresStoreError.timedOut("connecting", server: url.server, after: timeouts.connect)
        } catch {
            throw PostgresStoreError.classifying(error, operation: "connecting", server: url.server)
        }
        do {
            let value = try await withPostgresDeadline(limit, onTimeout: { connection.closeAtOnce() }) {
                try await body(connection)
            }
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            if error is PostgresDeadlinePassed {
                throw PostgresStoreError.timedOut(operation, server: url.server, after: limit)
            }
            throw PostgresStoreError.classifying(error, operation: operation, server: url.server)
        }
    }

    static func socketPath(directory: String, port: Int) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }
}

extension PostgresConnection {
    /// Closes the connection without waiting: whatever runs on it fails at once.
    func closeAtOnce() {
        let _: EventLoopFuture<Void> = close()
    }
}
