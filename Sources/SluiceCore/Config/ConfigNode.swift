internal import Yams

/// One node of a parsed config file together with its key path, so that every
/// error can say where it is (`limits.keys.web.burst`).
struct ConfigNode {
    let node: Node
    /// Dotted key path from the root; empty for the root itself.
    let path: String

    /// An error located at this node.
    func failure(_ problem: String) -> ConfigError {
        path.isEmpty ? ConfigError(problem) : ConfigError(problem).at(path)
    }

    /// `~`, `null` or nothing at all: the same as leaving the key out.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping, in file order. With `allowedKeys`, any other key is an error.
    func entries(allowedKeys: [String]? = nil) throws(ConfigError) -> [(key: String, value: ConfigNode)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw failure("expected a mapping of keys to values") }
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else { throw failure("a key here is not a plain name") }
            let key = keyScalar.string
            let child = ConfigNode(node: valueNode, path: path.isEmpty ? key : "\(path).\(key)")
            if let allowedKeys, !allowedKeys.contains(key) {
                throw child.failure("unknown key (expected one of: \(allowedKeys.joined(separator: ", ")))")
            }
            entries.append((key, child))
        }
        return entries
    }

    /// The items of a sequence; their paths end in `[index]`.
    func items() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw failure("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $1, path: "\(path)[\($0)]") }
    }

    /// The text of a scalar.
    func text() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw failure("expected a single value, not a list or mapping") }
        return scalar.string
    }

    /// A scalar, or a list of scalars joined by commas, read by `parse`
    /// (for settings such as `allowed_hosts` that are lists in the file and
    /// comma-separated in their environment variable).
    func listOrValue<Value>(_ parse: (String) throws(ConfigError) -> Value) throws(ConfigError) -> Value {
        guard case .sequence = node else { return try value(parse) }
        var texts: [String] = []
        for item in try items() {
            let text = try item.text()
            guard !text.contains(",") else { throw item.failure("an entry may not contain a comma") }
            texts.append(text)
        }
        do {
            return try parse(texts.joined(separator: ","))
        } catch {
            throw error.at(path)
        }
    }

    /// The scalar read by `parse`, with any error placed at this node.
    func value<Value>(_ parse: (String) throws(ConfigError) -> Value) throws(ConfigError) -> Value {
        let text = try text()
        do {
            return try parse(text)
        } catch {
            throw error.at(path)
        }
    }
}
