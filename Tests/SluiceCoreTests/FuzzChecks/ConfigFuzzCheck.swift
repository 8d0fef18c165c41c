import SluiceCore

/// The checks run on one input by the `FuzzConfig` libFuzzer target
/// (`fuzz/Sources/FuzzConfig`, which links this file) and by `FuzzCorpusTests`.
///
/// The input is config file text. Besides "never traps": parsing is
/// deterministic, the resolver refuses whatever the file parser refuses, the
/// origins match the layers, and every duration and size resolved prints back
/// (as `sluice config check` shows it) to text that reads as the same value.
/// The first line is also tried as the raw value of every setting, as a flag
/// and as an environment variable would give it.
enum ConfigFuzzCheck {
    enum Outcome: Equatable, Sendable {
        case rejected
        case accepted
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let environment = ["HOME": "/home/fuzz"]

    static func run(_ bytes: [UInt8]) throws(Failure) -> Outcome {
        let text = String(decoding: bytes, as: UTF8.self)

        let file: ConfigFile?
        let fileError: String?
        do {
            file = try ConfigFile.parse(yaml: text)
            fileError = nil
        } catch {
            file = nil
            fileError = error.description
            guard !error.description.isEmpty else { throw Failure(description: "empty ConfigError") }
        }
        let secondFile: ConfigFile?
        do {
            secondFile = try ConfigFile.parse(yaml: text)
        } catch {
            guard error.description == fileError else {
                throw Failure(description: "parsing twice gave \(fileError ?? "a config file") then \(error)")
            }
            secondFile = nil
        }
        guard secondFile == file else { throw Failure(description: "parsing twice gave different config files") }

        try checkRawValues(firstLine(of: text))

        let resolution: SettingsResolver.Resolution
        do {
            resolution = try SettingsResolver.resolveWithOrigins(
                file: .init(path: "fuzz.yaml", text: text), environment: environment, flags: [:])
        } catch {
            guard !error.description.isEmpty else { throw Failure(description: "empty ConfigError") }
            return .rejected
        }
        guard let file else {
            throw Failure(description: "the resolver took a file the parser refused: \(fileError ?? "")")
        }
        for setting in SettingName.allCases {
            let expected: SettingOrigin = file.settings.sets(setting) ? .configFile : .default
            guard resolution.origins[setting] == expected else {
                throw Failure(description: "origin of \(setting) is \(String(describing: resolution.origins[setting])), not \(expected)")
            }
        }
        let settings = resolution.settings
        guard settings.cache == file.cache, settings.limits == file.limits, settings.keys == file.keys,
              settings.usage == file.usage
        else {
            throw Failure(description: "the resolver changed a config file section")
        }
        let durations = [
            ("upstream_timeout", settings.upstreamTimeout), ("idle_timeout", settings.idleTimeout),
            ("shutdown_timeout", settings.shutdownTimeout), ("cache.ttl", settings.cache.ttl),
        ]
        for (name, duration) in durations {
            let printed = DurationFormatter.format(duration)
            guard let back = try? DurationParser.parse(printed), back == duration else {
                throw Failure(description: "\(name) \(duration) prints as \(printed.debugDescription), which does not read back")
            }
        }
        for (name, size) in [("max_body", settings.maxBodyBytes), ("cache.max_size", settings.cache.maxSizeBytes)] {
            let printed = ByteSizeFormatter.format(size)
            guard let back = try? ByteSizeParser.parse(printed), back == size else {
                throw Failure(description: "\(name) \(size) prints as \(printed.debugDescription), which does not read back")
            }
        }
        return .accepted
    }

    static func firstLine(of text: String) -> String {
        String(text.prefix { $0 != "\n" }.prefix(200))
    }

    /// `value` as every setting's flag and environment variable.
    static func checkRawValues(_ value: String) throws(Failure) {
        for setting in SettingName.allCases {
            var layer = SettingsLayer()
            let layerError: String?
            do {
                try layer.set(setting, from: value)
                layerError = nil
            } catch {
                layerError = error.description
            }
            var environment = environment
            environment[setting.environmentVariable] = value
            // An empty environment variable counts as unset.
            var tries = [(environment: environment, flags: [SettingName: String](), given: !value.isEmpty)]
            if setting.hasFlag { tries.append((Self.environment, [setting: value], true)) }
            for attempt in tries {
                do {
                    _ = try SettingsResolver.resolve(file: nil, environment: attempt.environment, flags: attempt.flags)
                } catch {
                    guard !error.description.isEmpty else { throw Failure(description: "empty ConfigError") }
                    continue
                }
                if attempt.given, let layerError {
                    throw Failure(description: "\(setting) = \(value.debugDescription) resolved although the layer refused it: \(layerError)")
                }
            }
        }
    }
}
