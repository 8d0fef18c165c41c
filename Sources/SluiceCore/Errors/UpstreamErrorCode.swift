/// The machine-readable code of an upstream error answer, for its usage row.
public enum UpstreamErrorCode {
    /// `error.code` of an OpenAI-shaped error body, else `error.type`, else
    /// `upstream_<status>` when the body says neither.
    public static func extract(status: Int, body: [UInt8]) -> String {
        if let document = try? JSONParser.parse(body), let error = document["error"] {
            if let code = error["code"]?.stringValue, !code.isEmpty { return String(code.prefix(64)) }
            if let type = error["type"]?.stringValue, !type.isEmpty { return String(type.prefix(64)) }
        }
        return "upstream_\(status)"
    }
}
