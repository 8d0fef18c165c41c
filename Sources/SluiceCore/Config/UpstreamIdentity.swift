/// How the daemon presents itself upstream: its credential and attribution.
public struct UpstreamIdentity: Sendable, Equatable {
    /// `nil` when none is configured; then only clients' own bearers reach the upstream.
    public var credential: UpstreamCredential?
    public var attribution: UpstreamAttribution

    public init(credential: UpstreamCredential?, attribution: UpstreamAttribution = UpstreamAttribution()) {
        self.credential = credential
        self.attribution = attribution
    }

    /// See `UpstreamCredential.resolve` and `UpstreamAttribution.resolve`.
    public static func resolve(
        environment: [String: String], readCredentialFile: (_ path: String) throws -> String?
    ) throws(ConfigError) -> UpstreamIdentity {
        UpstreamIdentity(
            credential: try UpstreamCredential.resolve(environment: environment, readCredentialFile: readCredentialFile),
            attribution: try UpstreamAttribution.resolve(environment: environment)
        )
    }
}
