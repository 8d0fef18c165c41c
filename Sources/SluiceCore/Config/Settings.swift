/// The daemon's effective configuration: defaults, overlaid by the config file,
/// the environment and flags (see `SettingsResolver`).
///
/// Plain values only; nothing here touches the file system or the network.
public struct Settings: Sendable, Equatable {
    /// The TCP listener, or `nil` when disabled with `off`.
    public var tcp: HostAndPort?
    /// The Unix socket path, or `nil` when disabled with `off`.
    public var unixSocketPath: String?
    /// The `db` setting: the SQLite database file, or a `postgresql://` URL (see `database`).
    public var databasePath: String

    /// What `databasePath` names.
    public var database: DatabaseLocation { DatabaseLocation(databasePath) }
    /// Base URL of the OpenAI-compatible upstream, without a trailing slash.
    public var upstream: String
    /// No byte from upstream for this long ends the request with 504.
    public var upstreamTimeout: Duration
    /// Largest accepted request body in bytes (larger gets 413).
    public var maxBodyBytes: Int
    public var logLevel: LogLevelSetting
    public var logFormat: LogFormat
    public var cache: CacheSettings
    public var limits: LimitSettings
    /// Client keys; `nil` means pass-through mode (any bearer is accepted).
    public var keys: [ClientKeyEntry]?
    public var usage: UsageSettings
    /// A connection that has not sent a complete request this long after it
    /// opened or after its last answer is closed; also how long a client may
    /// leave a streamed answer unread.
    public var idleTimeout: Duration
    /// Connections open at once, over all listeners; more are closed at once.
    public var maxConnections: Int
    /// After SIGTERM, how long requests in flight may run before they are cut.
    public var shutdownTimeout: Duration
    /// Host names and web origins accepted on TCP (see `WebAccessPolicy`).
    public var webAccess: WebAccessPolicy
    /// Spend caps per client key id.
    public var budgets = BudgetSettings()

    public init(
        tcp: HostAndPort? = HostAndPort(host: "127.0.0.1", port: 8787),
        unixSocketPath: String?,
        databasePath: String,
        upstream: String = Settings.defaultUpstream,
        upstreamTimeout: Duration = .seconds(300),
        maxBodyBytes: Int = 16 * 1024 * 1024,
        logLevel: LogLevelSetting = .info,
        logFormat: LogFormat = .text,
        cache: CacheSettings = CacheSettings(),
        limits: LimitSettings = LimitSettings(),
        keys: [ClientKeyEntry]? = nil,
        usage: UsageSettings = UsageSettings(),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = Settings.defaultMaxConnections,
        shutdownTimeout: Duration = .seconds(30),
        webAccess: WebAccessPolicy = WebAccessPolicy()
    ) {
        self.tcp = tcp
        self.unixSocketPath = unixSocketPath
        self.databasePath = databasePath
        self.upstream = upstream
        self.upstreamTimeout = upstreamTimeout
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.cache = cache
        self.limits = limits
        self.keys = keys
        self.usage = usage
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.shutdownTimeout = shutdownTimeout
        self.webAccess = webAccess
    }

    public static let defaultUpstream = "https://ai-gateway.vercel.sh/v1"
    /// Each connection may hold an upstream connection too, so the daemon asks
    /// for about twice this many open files (see the unit's `LimitNOFILE=`).
    public static let defaultMaxConnections = 4096
}

/// A `HOST:PORT` listener address. IPv6 hosts are written `[::1]:8787`.
public struct HostAndPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

public enum LogLevelSetting: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text, json
}

public struct CacheSettings: Sendable, Equatable {
    public enum Scope: String, Sendable, Equatable, CaseIterable {
        /// Each client key id has its own cache.
        case key
        /// One cache for all clients.
        case shared
    }

    /// Default lifetime of a stored answer.
    public var ttl: Duration
    public var scope: Scope
    /// Least recently used entries are evicted past this many bytes of stored bodies.
    public var maxSizeBytes: Int
    /// How long past its TTL an answer may still be served when the upstream
    /// fails (unreachable, timeout, 5xx, 429); zero turns it off.
    public var staleIfError: Duration

    public init(
        ttl: Duration = .seconds(24 * 3600), scope: Scope = .key, maxSizeBytes: Int = 1 << 30, staleIfError: Duration = .zero
    ) {
        self.ttl = ttl
        self.scope = scope
        self.maxSizeBytes = maxSizeBytes
        self.staleIfError = staleIfError
    }
}

/// Token-bucket parameters for one client key.
public struct RateLimit: Sendable, Equatable {
    public var requestsPerMinute: Double
    /// Capacity of the request bucket.
    public var burst: Double
    public var tokensPerMinute: Double
    /// How long a request may wait for capacity before it is refused; zero refuses at once.
    public var maxWait: Duration

    public init(requestsPerMinute: Double = 600, burst: Double = 60, tokensPerMinute: Double = 200_000, maxWait: Duration = .zero) {
        self.requestsPerMinute = requestsPerMinute
        self.burst = burst
        self.tokensPerMinute = tokensPerMinute
        self.maxWait = maxWait
    }
}

public struct LimitSettings: Sendable, Equatable {
    public var `default`: RateLimit
    /// Per key id (a configured key name, or 12 hex digits of a key's SHA-256).
    public var keys: [String: RateLimit]

    public init(default: RateLimit = RateLimit(), keys: [String: RateLimit] = [:]) {
        self.default = `default`
        self.keys = keys
    }

    /// The limit that applies to `keyID`.
    public func limit(for keyID: String) -> RateLimit {
        keys[keyID] ?? self.default
    }
}

/// A client key accepted in keys mode, given either in clear or as its SHA-256.
public struct ClientKeyEntry: Sendable, Equatable {
    public enum Secret: Sendable, Equatable {
        case plain(String)
        /// 64 lowercase hex digits of the key's SHA-256.
        case sha256(String)
    }

    public var name: String
    public var secret: Secret

    public init(name: String, secret: Secret) {
        self.name = name
        self.secret = secret
    }
}

public struct UsageSettings: Sendable, Equatable {
    /// Usage rows older than this are pruned.
    public var retention: Duration

    public init(retention: Duration = .seconds(90 * 86400)) {
        self.retention = retention
    }
}
