/// Who the upstream should credit for the traffic: `VERCEL_SITE_URL` is sent as
/// `http-referer`, `VERCEL_APP_NAME` as `x-title`.
public struct UpstreamAttribution: Sendable, Equatable {
    public static let siteURLVariable = "VERCEL_SITE_URL"
    public static let appNameVariable = "VERCEL_APP_NAME"

    public var siteURL: String?
    public var appName: String?

    public init(siteURL: String? = nil, appName: String? = nil) {
        self.siteURL = siteURL
        self.appName = appName
    }

    /// Reads both variables; an empty one counts as unset. A value that would
    /// break an HTTP header (a control character such as a newline) is an error.
    public static func resolve(environment: [String: String]) throws(ConfigError) -> UpstreamAttribution {
        UpstreamAttribution(
            siteURL: try headerValue(environment[siteURLVariable], variable: siteURLVariable),
            appName: try headerValue(environment[appNameVariable], variable: appNameVariable)
        )
    }

    /// The headers to add to every upstream request.
    public var headers: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let siteURL { headers.append(("http-referer", siteURL)) }
        if let appName { headers.append(("x-title", appName)) }
        return headers
    }

    private static func headerValue(_ value: String?, variable: String) throws(ConfigError) -> String? {
        guard let trimmed = value?.trimmingWhitespace, !trimmed.isEmpty else { return nil }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigError("contains a control character, which cannot go in an HTTP header")
                .at("environment variable \(variable)")
        }
        return trimmed
    }
}
