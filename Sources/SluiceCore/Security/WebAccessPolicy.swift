/// Who may talk to the daemon over TCP from a browser: the `Host` names it
/// answers to and the web origins it serves (CORS).
///
/// Any web page can make a browser send a request to `127.0.0.1:8787`; a
/// `text/plain` POST even needs no preflight. So on TCP a request that carries
/// an `Origin` not listed is refused, and so is one whose `Host` is not an IP
/// address, `localhost` or a listed name (a DNS-rebinding page sends its own
/// domain there). A browser marks its cross-site requests with
/// `Sec-Fetch-Site`; one without an `Origin` (an `<img>` GET) is refused too.
/// The Unix socket is not checked: no browser reaches it.
public struct WebAccessPolicy: Sendable, Equatable {
    /// Lowercased host names, without port or trailing dot.
    public private(set) var allowedHosts: Set<String>
    /// Normalised origins, `scheme://host[:port]`.
    public private(set) var allowedOrigins: Set<String>

    public init(allowedHosts: [String] = [], allowedOrigins: [String] = []) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.allowedOrigins = Set(allowedOrigins.map { $0.lowercased() })
    }

    public enum Verdict: Sendable, Equatable {
        /// Not a browser request, or one from an allowed origin.
        case allowed
        /// An allowed origin's request: answers carry `access-control-allow-origin: origin`.
        case allowedOrigin(String)
        case hostNotAllowed
        case originNotAllowed
    }

    /// The verdict on a TCP request's headers (`nil` where a header is absent).
    public func check(host: String?, origin: String?, fetchSite: String?) -> Verdict {
        if let host, !isAllowed(host: host) { return .hostNotAllowed }
        if let origin {
            let normalised = origin.trimmingWhitespace.lowercased()
            return allowedOrigins.contains(normalised) ? .allowedOrigin(normalised) : .originNotAllowed
        }
        if let fetchSite, Self.crossSiteValues.contains(fetchSite.trimmingWhitespace.lowercased()) {
            return .originNotAllowed
        }
        return .allowed
    }

    /// `Sec-Fetch-Site` values that mean another site made the browser send this.
    private static let crossSiteValues: Set<String> = ["cross-site", "same-site"]

    /// An IP literal, `localhost`, or a listed name; the port is ignored.
    func isAllowed(host: String) -> Bool {
        guard let name = Self.hostName(host) else { return false }
        if name == "localhost" || allowedHosts.contains(name) { return true }
        return Self.isIPv4(name) || Self.isIPv6(name)
    }

    /// The name part of a `Host` header: lowercased, port and trailing dot
    /// dropped, IPv6 brackets removed; nil when it is malformed.
    static func hostName(_ host: String) -> String? {
        var text = Substring(host.trimmingWhitespace.lowercased())
        guard !text.isEmpty else { return nil }
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return nil }
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if let colon = text.lastIndex(of: ":") {
            guard isPort(text[text.index(after: colon)...]) else { return nil }
            text = text[..<colon]
        }
        if text.last == "." { text = text.dropLast() }
        guard !text.isEmpty, text.allSatisfy(isHostCharacter) else { return nil }
        return String(text)
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func isHostCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == ".")
    }

    static func isIPv4(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part)! <= 255
        }
    }

    static func isIPv6(_ name: String) -> Bool {
        name.contains(":") && name.count <= 45
            && name.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

extension WebAccessPolicy {
    /// Reads one `allowed_hosts` entry: a DNS name (no port, no scheme).
    public static func parseHost(_ text: String) throws(ConfigError) -> String {
        let trimmed = text.trimmingWhitespace.lowercased()
        guard !trimmed.contains(":"), let name = hostName(trimmed), name == trimmed || name + "." == trimmed else {
            throw ConfigError("\(ConfigError.quoted(text)) is not a host name (write it without scheme or port, e.g. sluice.internal)")
        }
        return name
    }

    /// Reads one `allowed_origins` entry: `http(s)://host[:port]`, as a browser
    /// sends it. `*` and `null` are refused: either would let any page spend the
    /// daemon's credential.
    public static func parseOrigin(_ text: String) throws(ConfigError) -> String {
        var trimmed = Substring(text.trimmingWhitespace.lowercased())
        if trimmed.last == "/" { trimmed = trimmed.dropLast() }
        if trimmed == "*" || trimmed == "null" {
            throw ConfigError("\(ConfigError.quoted(text)) would let any web page call Sluice; list each origin, e.g. https://app.example")
        }
        let scheme: Substring
        if trimmed.hasPrefix("https://") {
            scheme = "https://"
        } else if trimmed.hasPrefix("http://") {
            scheme = "http://"
        } else {
            throw ConfigError("\(ConfigError.quoted(text)) is not an origin (write scheme://host[:port], e.g. https://app.example)")
        }
        let authority = trimmed.dropFirst(scheme.count)
        guard !authority.contains("/"), !authority.contains("@"), hostName(String(authority)) != nil else {
            throw ConfigError("\(ConfigError.quoted(text)) is not an origin (write scheme://host[:port], e.g. https://app.example)")
        }
        return String(trimmed)
    }
}
