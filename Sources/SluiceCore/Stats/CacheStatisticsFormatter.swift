/// Renders `CacheStatistics` for people.
public enum CacheStatisticsFormatter {
    public static func render(_ statistics: CacheStatistics) -> String {
        guard statistics.entries > 0 else { return "cache is empty\n" }
        var lines = [
            "entries:  \(DecimalText.grouped(statistics.entries))",
            "size:     \(ByteCountText.binary(statistics.bodyBytes))",
            "hits:     \(DecimalText.grouped(statistics.totalHits))",
        ]
        if let oldest = statistics.oldestCreatedAt, let newest = statistics.newestCreatedAt {
            lines.append("oldest:   \(timestamp(oldest))")
            lines.append("newest:   \(timestamp(newest))")
        }
        lines.append("")
        let rows = statistics.models.map { model in
            [
                model.model ?? StatsGrouping.noModelLabel, DecimalText.grouped(model.entries),
                ByteCountText.binary(model.bodyBytes), DecimalText.grouped(model.hits),
            ]
        }
        let all = [["MODEL", "ENTRIES", "SIZE", "HITS"]] + rows
        let widths = (0..<4).map { column in all.map { $0[column].count }.max() ?? 0 }
        for cells in all {
            let padded = cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }
            lines.append(padded.joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `2026-11-26T05:04:07Z`.
    static func timestamp(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        let days = whole >= 0 ? whole / UTCCalendar.secondsPerDay : (whole - UTCCalendar.secondsPerDay + 1) / UTCCalendar.secondsPerDay
        let rest = whole - days * UTCCalendar.secondsPerDay
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(UTCCalendar.dayLabel(daysSinceEpoch: days))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}

/// Byte counts in binary units, as the config writes sizes: `512 B`, `1.5 KiB`, `16.0 MiB`.
enum ByteCountText {
    static func binary(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(DecimalText.fixed(value, places: 1)) \(units[unit])"
    }
}
