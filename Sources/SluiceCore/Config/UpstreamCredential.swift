/// The daemon's own key for the upstream gateway, and where it was found.
///
/// Printing one (`description`, string interpolation, `dump`) shows only the
/// masked form; the secret is reachable only through `secret`.
public struct UpstreamCredential: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case apiKeyVariable
        case oidcTokenVariable
        /// systemd's `LoadCredential=`: the file under `$CREDENTIALS_DIRECTORY`.
        case credentialFile(path: String)

        public var description: String {
            switch self {
            case .apiKeyVariable: UpstreamCredential.apiKeyVariable
            case .oidcTokenVariable: UpstreamCredential.oidcTokenVariable
            case .credentialFile(let path): "credential file \(path)"
            }
        }
    }

    public static let apiKeyVariable = "VERCEL_AI_GATEWAY_API_KEY"
    public static let oidcTokenVariable = "VERCEL_OIDC_TOKEN"
    public static let credentialFileName = "vercel_ai_gateway_api_key"

    /// The bearer token to send upstream. Never log it.
    public let secret: String
    public let source: Source

    public init(secret: String, source: Source) {
        self.secret = secret
        self.source = source
    }

    /// `VERCEL_AI_GATEWAY_API_KEY`, else `VERCEL_OIDC_TOKEN`, else the file
    /// `$CREDENTIALS_DIRECTORY/vercel_ai_gateway_api_key`; `nil` when none is set.
    /// Surrounding whitespace is trimmed and an empty value counts as unset.
    ///
    /// - Parameter readCredentialFile: returns the file's text, `nil` when there
    ///   is no such file, and throws when it exists but cannot be read.
    public static func resolve(
        environment: [String: String], readCredentialFile: (_ path: String) throws -> String?
    ) throws(ConfigError) -> UpstreamCredential? {
        if let key = nonEmpty(environment[apiKeyVariable]) {
            return UpstreamCredential(secret: key, source: .apiKeyVariable)
        }
        if let token = nonEmpty(environment[oidcTokenVariable]) {
            return UpstreamCredential(secret: token, source: .oidcTokenVariable)
        }
        guard let path = DefaultPaths.credentialFile(named: credentialFileName, environment: environment) else { return nil }
        let contents: String?
        do {
            contents = try readCredentialFile(path)
        } catch {
            throw ConfigError("cannot read it (\(error))").at("credential file \(path)")
        }
        return nonEmpty(contents).map { UpstreamCredential(secret: $0, source: .credentialFile(path: path)) }
    }

    /// Secrets shorter than this are shown without any of their characters.
    static let shortestPartlyShown = 16

    /// At most a short type prefix and the last 4 characters, e.g. `vck_…abcd`;
    /// just `…` for a short secret.
    public var maskedSecret: String {
        guard secret.count >= Self.shortestPartlyShown else { return "…" }
        return typePrefix + "…" + secret.suffix(4)
    }

    /// E.g. `vck_…abcd (from VERCEL_AI_GATEWAY_API_KEY)`.
    public var masked: String { "\(maskedSecret) (from \(source))" }

    public var description: String { masked }
    public var debugDescription: String { "UpstreamCredential(\(masked))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": masked]) }

    /// A marker such as `vck_` or `sk_` that says what kind of key this is.
    private var typePrefix: String {
        guard let underscore = secret.prefix(5).firstIndex(of: "_") else { return "" }
        let marker = secret[..<underscore]
        guard (2...4).contains(marker.count), marker.allSatisfy({ $0.isASCII && $0.isLetter && $0.isLowercase }) else {
            return ""
        }
        return marker + "_"
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingWhitespace, !trimmed.isEmpty else { return nil }
        return trimmed
    }
}
