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
        case .duplicatedKeysInMapping(let duplicates, _):
            // Yams lists the keys in no stable order and marks the line of
            // whichever comes first: sorted and without that line, the message is
            // the same every time the same file is read (a fuzzing finding).
            let keys = Set(duplicates).sorted().map(ConfigError.quoted).joined(separator: ", ")
            return ConfigError("the key \(keys) appears more than once in one mapping")
        case .dataCouldNotBeDecoded:
            return ConfigError("is not UTF-8 text")
        default:
            return ConfigError("is not valid YAML")
        }
    }
}
