import Crypto

/// Decides which client key a request speaks for, from the config's `keys`.
///
/// Without `keys` (pass-through) every request is let through under the key id
/// of its bearer. With `keys` (even an empty list) only those keys are accepted;
/// a presented key is hashed and compared with every entry's SHA-256 in
/// constant time, so plain and `sha256` entries are matched the same way.
public struct ClientKeyRegistry: Sendable {
    private struct Entry: Sendable {
        var name: String
        /// `nil` for a malformed `sha256` entry, which then matches nothing.
        var digest: [UInt8]?
    }

    /// `nil` in pass-through mode.
    private let entries: [Entry]?

    public init(_ entries: [ClientKeyEntry]?) {
        self.entries = entries?.map { Entry(name: $0.name, digest: $0.secretDigest) }
    }

    /// `true` when no keys are configured and clients' bearers go upstream.
    public var isPassThrough: Bool { entries == nil }

    /// - Parameters:
    ///   - authorization: the request's `Authorization` header value, if any.
    ///   - apiKey: its `x-api-key` header value (Anthropic's way), used when
    ///     there is no `Authorization`; it scopes cache, limits and usage like a bearer.
    public func authenticate(authorization: String?, apiKey: String? = nil) -> ClientAuthentication {
        var bearer = BearerToken(authorization: authorization)
        let apiKey = apiKey?.trimmingWhitespace ?? ""
        if bearer == .absent, !apiKey.isEmpty {
            guard let entries else { return .passThroughAPIKey(keyID: KeyID.forSecret(apiKey)) }
            guard !apiKey.contains(where: { $0 == " " || $0 == "\t" }) else { return .rejected(reason: Self.malformedReason) }
            bearer = .token(apiKey)
            return authenticate(bearer, entries: entries)
        }
        guard let entries else {
            return passThrough(bearer)
        }
        return authenticate(bearer, entries: entries)
    }

    private func authenticate(_ bearer: BearerToken, entries: [Entry]) -> ClientAuthentication {
        switch bearer {
        case .absent:
            return .rejected(reason: "Missing API key: send Authorization: Bearer <key> (or x-api-key) with one of the keys this Sluice accepts.")
        case .malformed:
            return .rejected(reason: Self.malformedReason)
        case .token(let token):
            guard let name = Self.match(token, in: entries) else {
                return .rejected(reason: "The API key is not one this Sluice accepts.")
            }
            return .accepted(keyID: name)
        }
    }

    private func passThrough(_ bearer: BearerToken) -> ClientAuthentication {
        switch bearer {
        case .absent:
            .passThrough(keyID: KeyID.anonymous, forwardBearer: nil)
        case .malformed:
            .rejected(reason: Self.malformedReason)
        case .token(let token):
            .passThrough(keyID: KeyID.forSecret(token), forwardBearer: token)
        }
    }

    private static let malformedReason = "The Authorization header must be Bearer <key>."

    /// The name of the entry whose digest equals the token's. Every entry is
    /// compared, so timing does not tell which (or whether one) matched.
    private static func match(_ token: String, in entries: [Entry]) -> String? {
        let digest = Array(SHA256.hash(data: Array(token.utf8)))
        var matched: String?
        for entry in entries {
            guard let candidate = entry.digest else { continue }
            if ConstantTime.equal(candidate, digest), matched == nil {
                matched = entry.name
            }
        }
        return matched
    }
}
