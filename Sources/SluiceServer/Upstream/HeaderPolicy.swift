import NIOHTTP1

/// Which headers cross the proxy, in each direction.
enum HeaderPolicy {
    /// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy recomputes.
    static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length", "expect",
        // Sluice must read answers (usage, cache), so it asks upstream for identity encoding.
        "accept-encoding",
    ]

    /// Headers a client sent that go upstream: everything but hop-by-hop ones,
    /// those named in `Connection`, `authorization` (set by the caller), and
    /// `x-api-key` unless `keepingClientAPIKey`.
    static func upstreamHeaders(from client: HTTPHeaders, keepingClientAPIKey: Bool = true) -> HTTPHeaders {
        let named = connectionTokens(client)
        var result = HTTPHeaders()
        for (name, value) in client {
            let lower = name.lowercased()
            if notForwarded.contains(lower) || named.contains(lower) || lower == "authorization" || lower == "cache-control" {
                continue
            }
            if lower == "x-api-key", !keepingClientAPIKey { continue }
            result.add(name: name, value: value)
        }
        return result
    }

    /// Headers of an upstream answer that go back to the client.
    static func clientHeaders(from upstream: HTTPHeaders) -> HTTPHeaders {
        let named = connectionTokens(upstream)
        var result = HTTPHeaders()
        for (name, value) in upstream {
            let lower = name.lowercased()
            if notForwarded.contains(lower) || named.contains(lower) { continue }
            result.add(name: name, value: value)
        }
        return result
    }

    private static func connectionTokens(_ headers: HTTPHeaders) -> Set<String> {
        var tokens = Set<String>()
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                tokens.insert(token.filter { !$0.isWhitespace }.lowercased())
            }
        }
        return tokens
    }
}
