internal import Yams

/// Turns a Yams error into one line that says where the syntax is wrong.
///
/// Yams' own descriptions quote the offending line of the file, which could be
/// a line holding a client key; these messages never do.
enum YAMLSyntaxError {
    static func describe(_ error: any Error) -> ConfigError {
        guard let yamlError = error as? YamlError else { return ConfigError("is not valid YAML") }
        switch yamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return ConfigError("line \(mark.line), column \(mark.column): \(problem) (not valid YAML)")
        case .reader(let problem, _, _, _):
            return ConfigError("\(problem) (not valid YAML text)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map(ConfigError.quoted).joined(separator: ", ")
            return ConfigError("line \(context.mark.line): the key \(keys) appears more than once in one mapping")
        case .dataCouldNotBeDecoded:
            return ConfigError("is not UTF-8 text")
        default:
            return ConfigError("is not valid YAML")
        }
    }
}
