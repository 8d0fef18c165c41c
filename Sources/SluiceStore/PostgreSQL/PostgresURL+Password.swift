import Foundation
import SluiceCore

extension PostgresURL {
    /// The name of the systemd credential that may hold the password.
    public static let passwordCredentialName = "db_password"

    /// This URL with a password: its own, else `PGPASSWORD`, else the systemd
    /// credential `db_password` (`$CREDENTIALS_DIRECTORY/db_password`, one
    /// trailing line break dropped); unchanged when none has one (the server
    /// may not ask for a password). An empty `PGPASSWORD` counts as none.
    public func resolvingPassword(environment: [String: String]) throws -> PostgresURL {
        guard password == nil else { return self }
        var resolved = self
        if let fromEnvironment = environment["PGPASSWORD"], !fromEnvironment.isEmpty {
            resolved.password = fromEnvironment
        } else if let path = DefaultPaths.credentialFile(named: Self.passwordCredentialName, environment: environment) {
            guard FileManager.default.fileExists(atPath: path) else { return self }
            guard let data = FileManager.default.contents(atPath: path),
                  let text = String(data: data, encoding: .utf8)
            else {
                throw PostgresStoreError.unreadablePassword(
                    reason: "the credential \(Self.passwordCredentialName) in \((path as NSString).deletingLastPathComponent) is not readable UTF-8 text")
            }
            resolved.password = Self.droppingOneLineBreak(text)
        }
        return resolved
    }

    /// `\n` or `\r\n` at the end is one `Character`.
    private static func droppingOneLineBreak(_ text: String) -> String {
        text.last?.isNewline == true ? String(text.dropLast()) : text
    }
}
