/// What a request's `Cache-Control` header asks of the cache.
public struct CacheDirectives: Sendable, Equatable {
    /// Skip the lookup, but store the fresh answer.
    public var noCache = false
    /// Skip both the lookup and the store.
    public var noStore = false
    /// Serve only answers at most this old, and store with this lifetime.
    public var maxAge: Int?

    public init(noCache: Bool = false, noStore: Bool = false, maxAge: Int? = nil) {
        self.noCache = noCache
        self.noStore = noStore
        self.maxAge = maxAge
    }

    /// Parses a `Cache-Control` value such as `no-cache`, `max-age=60`. Unknown
    /// directives are ignored, as HTTP caches do.
    public init(headerValue: String?) {
        guard let headerValue else { return }
        for part in headerValue.split(separator: ",") {
            let directive = part.droppingSurroundingBlanks().lowercased()
            if directive == "no-cache" {
                noCache = true
            } else if directive == "no-store" {
                noStore = true
            } else if directive.hasPrefix("max-age=") {
                let digits = directive.dropFirst("max-age=".count).filter { $0 != "\"" }
                if let seconds = Int(digits), seconds >= 0 { maxAge = seconds }
            }
        }
    }

    /// The lookup is skipped and the outcome reported as `bypass`.
    public var skipsLookup: Bool { noCache || noStore }
}

extension Substring {
    func droppingSurroundingBlanks() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
