/// The effective configuration as `sluice config check` prints it: YAML-like,
/// every setting with where it came from; client keys only as name and key id,
/// the upstream credential masked.
public enum SettingsReport {
    public static func render(_ configuration: Configuration) -> String {
        let settings = configuration.settings
        var lines: [String] = []
        lines.append("# config file: \(configuration.configFilePath ?? "none")")

        func topLevel(_ setting: SettingName, _ value: String) {
            let origin = configuration.origins[setting]?.describe(setting) ?? "default"
            lines.append("\(setting.rawValue): \(value)".padding(to: 48) + " # \(origin)")
        }
        topLevel(.tcp, settings.tcp?.description ?? "off")
        topLevel(.unix, settings.unixSocketPath ?? "off")
        topLevel(.db, settings.database.redacted)
        topLevel(.upstream, settings.upstream)
        topLevel(.upstreamTimeout, DurationFormatter.format(settings.upstreamTimeout))
        topLevel(.maxBody, ByteSizeFormatter.format(settings.maxBodyBytes))
        topLevel(.logLevel, settings.logLevel.rawValue)
        topLevel(.logFormat, settings.logFormat.rawValue)
        topLevel(.idleTimeout, DurationFormatter.format(settings.idleTimeout))
        topLevel(.maxConnections, String(settings.maxConnections))
        topLevel(.shutdownTimeout, DurationFormatter.format(settings.shutdownTimeout))
        topLevel(.allowedHosts, list(settings.webAccess.allowedHosts))
        topLevel(.allowedOrigins, list(settings.webAccess.allowedOrigins))

        lines.append("cache:")
        lines.append("  ttl: \(DurationFormatter.format(settings.cache.ttl))")
        lines.append("  scope: \(settings.cache.scope.rawValue)")
        lines.append("  max_size: \(ByteSizeFormatter.format(settings.cache.maxSizeBytes))")
        lines.append("  stale_if_error: \(DurationFormatter.format(settings.cache.staleIfError))")

        lines.append("limits:")
        lines.append("  default: \(describe(settings.limits.default))")
        if settings.limits.keys.isEmpty {
            lines.append("  keys: {}")
        } else {
            lines.append("  keys:")
            for (keyID, limit) in settings.limits.keys.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(keyID): \(describe(limit))")
            }
        }

        if let keys = settings.keys {
            lines.append("keys:")
            for entry in keys {
                lines.append("  - {name: \(entry.name), key_id: \(entry.hashedKeyID)}")
            }
        } else {
            lines.append("keys: none".padding(to: 48) + " # pass-through: clients' own bearer keys go upstream")
        }

        lines.append("budgets:")
        lines.append("  default: \(describe(settings.budgets.default))")
        if settings.budgets.keys.isEmpty {
            lines.append("  keys: {}")
        } else {
            lines.append("  keys:")
            for (keyID, budget) in settings.budgets.keys.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(keyID): \(describe(budget))")
            }
        }

        lines.append("usage:")
        lines.append("  retention: \(DurationFormatter.format(settings.usage.retention))")

        lines.append("upstream_credential: \(configuration.upstream.credential?.masked ?? "none")")
        let attribution = configuration.upstream.attribution.headers
        if attribution.isEmpty {
            lines.append("attribution: none")
        } else {
            lines.append("attribution:")
            for header in attribution {
                lines.append("  \(header.name): \(header.value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func list(_ entries: Set<String>) -> String {
        "[" + entries.sorted().joined(separator: ", ") + "]"
    }

    static func describe(_ budget: Budget) -> String {
        let day = budget.usdPerDay.map { "usd_per_day: \(DecimalText.plain($0, places: 6))" } ?? "usd_per_day: none"
        let month = budget.usdPerMonth.map { "usd_per_month: \(DecimalText.plain($0, places: 6))" } ?? "usd_per_month: none"
        return "{\(day), \(month)}"
    }

    static func describe(_ limit: RateLimit) -> String {
        "{requests_per_minute: \(number(limit.requestsPerMinute)), burst: \(number(limit.burst)), "
            + "tokens_per_minute: \(number(limit.tokensPerMinute)), max_wait: \(DurationFormatter.format(limit.maxWait))}"
    }

    /// Whole numbers without a decimal point.
    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
