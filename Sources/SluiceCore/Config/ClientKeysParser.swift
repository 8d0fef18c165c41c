/// Reads the `keys` list: each entry a `name` and either the `key` itself or
/// its `sha256`. Errors never quote a key or a hash.
enum ClientKeysParser {
    static func parse(_ node: ConfigNode) throws(ConfigError) -> [ClientKeyEntry] {
        let items = try node.items()
        guard !items.isEmpty else {
            throw node.failure("the list is empty, so no client could connect; remove keys for pass-through mode")
        }
        var entries: [ClientKeyEntry] = []
        var pathByName: [String: String] = [:]
        var pathByDigest: [String: String] = [:]
        for item in items {
            let entry = try entry(item)
            if let earlier = pathByName.updateValue(item.path, forKey: entry.name) {
                throw item.failure("the name \(ConfigError.quoted(entry.name)) is already used by \(earlier)")
            }
            if let earlier = pathByDigest.updateValue(item.path, forKey: entry.sha256Hex) {
                throw item.failure("the same key is already given by \(earlier)")
            }
            entries.append(entry)
        }
        return entries
    }

    private static func entry(_ item: ConfigNode) throws(ConfigError) -> ClientKeyEntry {
        var name: String?
        var secret: ClientKeyEntry.Secret?
        for (field, child) in try item.entries(allowedKeys: ["name", "key", "sha256"]) where !child.isNull {
            switch field {
            case "name":
                name = try child.value(validName)
            case "key":
                guard secret == nil else { throw item.failure("give either key or sha256, not both") }
                secret = .plain(try child.value(validKey))
            case "sha256":
                guard secret == nil else { throw item.failure("give either key or sha256, not both") }
                secret = .sha256(try child.value(validDigest))
            default:
                break  // `entries(allowedKeys:)` has rejected anything else.
            }
        }
        guard let name else { throw item.failure("name is missing") }
        guard let secret else { throw item.failure("give the key or its sha256") }
        return ClientKeyEntry(name: name, secret: secret)
    }

    /// Names are key ids in logs, metrics and the database: keep them plain.
    private static func validName(_ text: String) throws(ConfigError) -> String {
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        guard !text.isEmpty, text.count <= 64, allowed else {
            throw ConfigError("\(ConfigError.quoted(text)) is not a key name (1 to 64 letters, digits, '-', '_' or '.')")
        }
        return text
    }

    private static func validKey(_ text: String) throws(ConfigError) -> String {
        guard !text.isEmpty else { throw ConfigError("the key is empty") }
        guard !text.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ConfigError("the key contains whitespace")
        }
        return text
    }

    private static func validDigest(_ text: String) throws(ConfigError) -> String {
        let trimmed = text.trimmingWhitespace
        guard trimmed.count == 64, trimmed.isHexDigits else {
            // Not quoted: a key pasted here by mistake must not be echoed.
            throw ConfigError("is not 64 hex digits (it has \(trimmed.count) characters); give the SHA-256 of the key, e.g. from `printf %s KEY | sha256sum`")
        }
        return trimmed.lowercased()
    }
}
