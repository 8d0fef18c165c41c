/// Checks the upstream base URL: `http` or `https`, a host, an optional port and
/// path, nothing else. Trailing slashes are dropped so routes can be appended.
public enum UpstreamURL {
    public static func normalize(_ text: String) throws(ConfigError) -> String {
        let trimmed = text.trimmingWhitespace
        let lowercased = trimmed.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowercased.hasPrefix($0) }) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not an http:// or https:// URL")
        }
        let rest = trimmed.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" }
        if authority.contains("@") {
            // Never echo the value: it holds a password.
            throw ConfigError("the URL must not contain a user or password; give the key in VERCEL_AI_GATEWAY_API_KEY")
        }
        if trimmed.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0.isNewline }) {
            throw ConfigError("\(ConfigError.quoted(text)) must be a plain base URL, without spaces, query or fragment")
        }
        let host = authority.hasPrefix("[") ? authority.prefix { $0 != "]" } : authority.prefix { $0 != ":" }
        let portText = authority.dropFirst(host.count).drop { $0 == "]" }
        guard !host.isEmpty, host != "[" else {
            throw ConfigError("\(ConfigError.quoted(text)) has no host")
        }
        if !portText.isEmpty {
            let digits = portText.dropFirst()
            guard portText.first == ":", let port = Int(digits), digits.allSatisfy(\.isNumber), (1...65_535).contains(port) else {
                throw ConfigError("\(ConfigError.quoted(text)) has a bad port")
            }
        }
        var normalized = Substring(trimmed)
        while normalized.hasSuffix("/") { normalized = normalized.dropLast() }
        return String(normalized)
    }
}
