/// One `GET /metrics` answer parsed: every sample of the Prometheus text
/// format (version 0.0.4) by metric name and labels.
///
/// Only what Sluice writes is understood: `# HELP`/`# TYPE` comments, and
/// `name{label="value",…} number` lines with simple label values.
struct PrometheusScrape: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Series: Hashable, Sendable, CustomStringConvertible {
        var name: String
        var labels: [String: String]

        var description: String {
            labels.isEmpty ? name : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
        }
    }

    let samples: [Series: Double]
    /// The metric type each `# TYPE` line declares.
    let types: [String: String]

    init(_ text: String) throws {
        var samples: [Series: Double] = [:]
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            if line.hasPrefix("#") {
                let words = line.split(separator: " ")
                if words.count == 4, words[1] == "TYPE" { types[String(words[2])] = String(words[3]) }
                continue
            }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw Failure(description: "not a sample line: \(line)")
            }
            let series = try Self.series(String(line[..<space]))
            guard samples.updateValue(value, forKey: series) == nil else {
                throw Failure(description: "series written twice: \(series)")
            }
        }
        self.samples = samples
        self.types = types
    }

    /// The value of exactly this series, or 0 when it is not written (yet).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples[Series(name: name, labels: labels)] ?? 0
    }

    /// The sum over every series of `name` whose labels include `labels`.
    func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        samples.filter { series, _ in
            series.name == name && labels.allSatisfy { series.labels[$0.key] == $0.value }
        }.values.reduce(0, +)
    }

    /// Every series of `name`, whatever its labels.
    func series(named name: String) -> [Series: Double] {
        samples.filter { $0.key.name == name }
    }

    /// Whether the family `name` is exposed: declared by a `# TYPE` line and
    /// with at least one sample (`_count` for a histogram).
    func exposes(_ name: String) -> Bool {
        guard let type = types[name] else { return false }
        return !series(named: type == "histogram" ? name + "_count" : name).isEmpty
    }

    /// `name{a="1",b="2"}` split into its name and labels.
    private static func series(_ text: String) throws -> Series {
        guard let open = text.firstIndex(of: "{") else { return Series(name: text, labels: [:]) }
        guard text.hasSuffix("}") else { throw Failure(description: "unclosed labels: \(text)") }
        var labels: [String: String] = [:]
        var rest = text[text.index(after: open)..<text.index(before: text.endIndex)]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else {
                throw Failure(description: "bad label in \(text)")
            }
            let name = String(rest[..<equals])
            let valueStart = rest.index(equals, offsetBy: 2)
            guard let valueEnd = rest[valueStart...].firstIndex(of: "\"") else {
                throw Failure(description: "unclosed label value in \(text)")
            }
            labels[name] = String(rest[valueStart..<valueEnd])
            rest = rest[rest.index(after: valueEnd)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return Series(name: String(text[..<open]), labels: labels)
    }
}
