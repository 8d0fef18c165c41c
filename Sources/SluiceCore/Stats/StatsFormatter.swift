/// Output formats of `sluice stats`.
public enum StatsFormat: String, Sendable, Equatable, CaseIterable {
    /// Aligned columns for people, ending with a totals line.
    case table
    /// An array of objects, one per group, with the contract's snake_case fields.
    case json
    /// The json fields as columns, with a header row.
    case csv
}

/// Renders a `StatsReport` as text. Every output ends with a newline.
public enum StatsFormatter {
    /// Printed instead of an empty table.
    public static let emptyMessage = "no requests recorded in this range"

    /// Field names of json objects and csv columns, in order.
    public static let fieldNames = [
        "group", "requests", "cache_hits", "hit_rate", "errors", "rate_limited", "prompt_tokens",
        "completion_tokens", "tokens_saved", "cost", "cost_saved", "latency_p50_ms", "latency_p95_ms",
    ]

    public static func render(_ report: StatsReport, as format: StatsFormat) -> String {
        switch format {
        case .table: table(report)
        case .json: json(report)
        case .csv: csv(report)
        }
    }

    /// Values of `row` in `fieldNames` order, as plain machine-readable numbers.
    static func machineFields(_ row: StatsRow) -> [MachineValue] {
        [
            .text(row.group), .integer(row.requests), .integer(row.cacheHits),
            .decimal(row.hitRate, places: 4), .integer(row.errors), .integer(row.rateLimited),
            .integer(row.promptTokens), .integer(row.completionTokens), .integer(row.tokensSaved),
            .decimal(row.cost, places: 6), .decimal(row.costSaved, places: 6),
            .decimal(row.latencyP50Ms, places: 3), .decimal(row.latencyP95Ms, places: 3),
        ]
    }

    enum MachineValue {
        case text(String)
        case integer(Int)
        /// Rounded to `places` decimals, written without exponent or trailing zeros.
        case decimal(Double, places: Int)

        var plain: String {
            switch self {
            case .text(let text): text
            case .integer(let value): String(value)
            case .decimal(let value, let places): DecimalText.plain(value, places: places)
            }
        }
    }
}
