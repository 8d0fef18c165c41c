import Foundation
import PostgresNIO

extension PostgresStoreError {
    /// `error`, thrown by `operation` against `server`, as the failure a person
    /// can act on. Reads the server's message and SQLSTATE, never the query,
    /// its arguments or the connection settings.
    static func classifying(_ error: any Error, operation: String, server: String) -> PostgresStoreError {
        if let error = error as? PostgresStoreError { return error }
        guard let error = error as? PSQLError else {
            if error is PostgresDecodingError {
                return .failed(operation, server: server, reason: "a column did not have the type this Sluice expects")
            }
            if error is CancellationError {
                return .failed(operation, server: server, reason: "cancelled")
            }
            return .cannotConnect(server: server, reason: connectionReason(error))
        }
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "server error"
            let state = error.serverInfo?[.sqlState] ?? ""
            let reason = state.isEmpty ? message : "\(message) (SQLSTATE \(state))"
            // Class 28: invalid authorization; 3D000: no such database.
            if state.hasPrefix("28") || state == "3D000" {
                return .loginRefused(server: server, reason: reason)
            }
            return .failed(operation, server: server, reason: reason)
        case .authMechanismRequiresPassword:
            return .loginRefused(
                server: server,
                reason: "the server asks for a password and none was given (put it in the URL, PGPASSWORD or the credential \(PostgresURL.passwordCredentialName))")
        case .unsupportedAuthMechanism:
            return .loginRefused(server: server, reason: "the server asks for an authentication method this client does not support")
        case .saslError:
            return .loginRefused(server: server, reason: "SCRAM authentication failed")
        case .sslUnsupported:
            return .cannotConnect(server: server, reason: "the server does not offer TLS, which the sslmode asks for")
        case .connectionError, .failedToAddSSLHandler, .uncleanShutdown:
            if let underlying = error.underlying as? ChannelError, case .connectTimeout(let limit) = underlying {
                return .timedOut(operation, server: server, after: .nanoseconds(limit.nanoseconds))
            }
            return .cannotConnect(server: server, reason: error.underlying.map(connectionReason) ?? "connection failed")
        case .serverClosedConnection, .clientClosedConnection:
            return .failed(operation, server: server, reason: "the connection closed")
        case .poolClosed:
            return .failed(operation, server: server, reason: "the PostgreSQL client is not running")
        case .queryCancelled:
            return .failed(operation, server: server, reason: "cancelled")
        default:
            return .failed(operation, server: server, reason: "client error \(error.code)")
        }
    }

    /// A one-line reason for a failure to reach the server or to set up TLS.
    private static func connectionReason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            // One failure per address tried; the first tells as much as the others.
            if let first = error.connectionErrors.first {
                return connectionReason(first.error)
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "cannot resolve the host name"
            }
            return "connection failed"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case is NIOSSLError, is BoringSSLError:
            if String(describing: error).contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS failed: the server's certificate is not trusted (see sslrootcert and sslmode)"
            }
            return "TLS failed: the handshake did not complete"
        default:
            return String(describing: error)
        }
    }
}
