import Foundation

extension PostgresURL {
    /// The URL with its password masked, e.g. `postgresql://sluice:***@db.internal/sluice`;
    /// parameters at their defaults are left out. Safe to log and print.
    public var redacted: String {
        var text = "postgresql://" + Self.encoded(user)
        if password != nil { text += ":***" }
        var parameters: [String] = []
        switch endpoint {
        case .tcp(let host, let port):
            text += "@" + (host.contains(":") ? "[\(host)]" : Self.encoded(host))
            if port != Self.defaultPort { text += ":\(port)" }
        case .unixSocket(let directory, let port):
            text += "@"
            if port != Self.defaultPort { text += ":\(port)" }
            parameters.append("host=" + Self.encoded(directory, keepingSlashes: true))
        }
        text += "/" + Self.encoded(database ?? "")
        if sslMode != .prefer { parameters.append("sslmode=\(sslMode.rawValue)") }
        if let rootCertificatePath { parameters.append("sslrootcert=" + Self.encoded(rootCertificatePath, keepingSlashes: true)) }
        if let connectTimeout { parameters.append("connect_timeout=\(connectTimeout.components.seconds)") }
        if !parameters.isEmpty { text += "?" + parameters.joined(separator: "&") }
        return text
    }

    /// Percent-encodes what a URL part cannot hold as it is.
    private static func encoded(_ part: String, keepingSlashes: Bool = false) -> String {
        var allowed = unreserved
        if keepingSlashes { allowed.insert("/") }
        return part.addingPercentEncoding(withAllowedCharacters: allowed) ?? part
    }

    private static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
