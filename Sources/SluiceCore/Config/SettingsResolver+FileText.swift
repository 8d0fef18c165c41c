extension SettingsResolver.FileText {
    /// The config file named by `--config`, else `SLUICE_CONFIG`, read through
    /// `readFile`; `nil` when neither names one. A named file that is missing
    /// or unreadable is an error that gives its path.
    ///
    /// - Parameter readFile: the file's text, `nil` when there is no such file;
    ///   throws, with a short reason as its description, when it cannot be read.
    public static func load(
        configFlag: String?, environment: [String: String], readFile: (_ path: String) throws -> String?
    ) throws(ConfigError) -> SettingsResolver.FileText? {
        guard let path = SettingsResolver.configFilePath(flag: configFlag, environment: environment) else { return nil }
        let text: String?
        do {
            text = try readFile(path)
        } catch {
            throw ConfigError("cannot read it (\(error))").at("config file \(path)")
        }
        guard let text else { throw ConfigError("no such file").at("config file \(path)") }
        return SettingsResolver.FileText(path: path, text: text)
    }
}
