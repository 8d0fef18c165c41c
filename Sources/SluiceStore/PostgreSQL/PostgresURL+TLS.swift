import PostgresNIO

extension PostgresURL {
    /// Whether connections use TLS: never, when the server offers it, or always.
    enum TLSUse {
        case never
        case ifOffered(TLSConfiguration)
        case always(TLSConfiguration)
    }

    /// What `sslmode` and `sslrootcert` ask for (never TLS over a Unix socket).
    var tlsUse: TLSUse {
        if case .unixSocket = endpoint { return .never }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath {
            configuration.trustRoots = .file(rootCertificatePath)
        }
        switch sslMode {
        case .disable:
            return .never
        case .prefer:
            configuration.certificateVerification = .none
            return .ifOffered(configuration)
        case .require:
            // As libpq: with a root file given, `require` checks the chain like `verify-ca`.
            configuration.certificateVerification = rootCertificatePath == nil ? .none : .noHostnameVerification
            return .always(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .always(configuration)
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            return .always(configuration)
        }
    }
}
