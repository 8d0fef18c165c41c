extension StatsFormatter {
    /// `[]` when empty; otherwise one object per line, without a totals object.
    static func json(_ report: StatsReport) -> String {
        guard !report.rows.isEmpty else { return "[]\n" }
        let objects = report.rows.map { row in
            let members = zip(fieldNames, machineFields(row)).map { name, value in
                let text: String
                switch value {
                case .text(let string): text = jsonString(string)
                case .integer, .decimal: text = value.plain
                }
                return "\"\(name)\":\(text)"
            }
            return "  {" + members.joined(separator: ",") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// A header row, then one row per group, without a totals row.
    static func csv(_ report: StatsReport) -> String {
        var lines = [fieldNames.joined(separator: ",")]
        for row in report.rows {
            lines.append(machineFields(row).map { csvField($0.plain) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func csvField(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted += "\"" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}
