/// Checks Unix socket paths before anything tries to bind them.
public enum UnixSocketPath {
    /// Linux keeps a socket path in a 108-byte `sun_path`, including the closing NUL.
    public static let maximumBytes = 107

    public static func validate(_ text: String) throws(ConfigError) -> String {
        guard !text.trimmingWhitespace.isEmpty else { throw ConfigError("the socket path is empty (use a path or off)") }
        guard text.utf8.count <= maximumBytes else {
            throw ConfigError("the socket path \(ConfigError.quoted(text)) is \(text.utf8.count) bytes long; a Unix socket path can have at most \(maximumBytes)")
        }
        return text
    }
}
