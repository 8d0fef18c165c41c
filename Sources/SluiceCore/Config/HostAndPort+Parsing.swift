extension HostAndPort {
    /// Reads `HOST:PORT`, with IPv6 hosts in brackets: `127.0.0.1:8787`,
    /// `localhost:8787`, `[::1]:8787`. Port 0 asks the system for a free port.
    public static func parse(_ text: String) throws(ConfigError) -> HostAndPort {
        let trimmed = text.trimmingWhitespace
        let invalid = ConfigError("\(ConfigError.quoted(text)) is not HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787) or off")
        guard let colon = trimmed.lastIndex(of: ":") else { throw invalid }
        var host = Substring(trimmed[..<colon])
        let portText = trimmed[trimmed.index(after: colon)...]
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { throw invalid }
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { throw invalid }
        } else if host.contains(":") {
            throw ConfigError("\(ConfigError.quoted(text)): write an IPv6 host in brackets, e.g. [::1]:8787")
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "[" || $0 == "]" || $0 == "/" }) else {
            throw invalid
        }
        guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (0...65_535).contains(port) else {
            throw ConfigError("\(ConfigError.quoted(text)): the port must be a number from 0 to 65535")
        }
        return HostAndPort(host: String(host), port: port)
    }
}
