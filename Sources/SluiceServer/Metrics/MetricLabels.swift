import NIOConcurrencyHelpers
import SluiceCore

/// Label values for Sluice's metrics, each from a small known set so that no
/// input can create an unbounded number of series.
enum MetricLabels {
    /// The label for values past a bound.
    static let other = "other"

    /// The model label of a request that named none.
    static let unknownModel = "unknown"

    /// The longest model name kept as a label; longer ones are cut.
    static let modelLabelLength = 128

    /// Known routes, aliases folded onto their `/v1` form; anything else is `other`.
    static func route(_ path: String) -> String {
        switch path {
        case "/v1/chat/completions", "/chat/completions": "/v1/chat/completions"
        case "/v1/embeddings", "/embeddings": "/v1/embeddings"
        case "/v1/models", "/models": "/v1/models"
        case "/v1/responses", "/v1/completions", "/v1/messages": path
        case "/healthz", "/metrics": path
        default: other
        }
    }

    /// The HTTP status code, or `other` outside 100...599.
    static func status(_ code: Int) -> String {
        (100...599).contains(code) ? String(code) : other
    }

    static func cache(_ outcome: CacheOutcome) -> String {
        outcome.rawValue
    }

    /// A model name as a label (before the distinct-value bound): `unknown`
    /// when absent or empty, cut to `modelLabelLength` characters.
    static func model(_ model: String?) -> String {
        guard let model, !model.isEmpty else { return unknownModel }
        return model.count > modelLabelLength ? String(model.prefix(modelLabelLength)) : model
    }
}

/// Admits at most `capacity` distinct values of one label, first come first
/// served, across every family that uses it; later values become `other`.
///
/// Sharing one bound between families keeps them consistent: a key id that
/// has its own series in one family has them in the others too.
final class BoundedLabelValues: Sendable {
    private let admitted = NIOLockedValueBox<Set<String>>([])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    func label(for value: String) -> String {
        admitted.withLockedValue { admitted in
            if admitted.contains(value) { return value }
            guard admitted.count < capacity else { return MetricLabels.other }
            admitted.insert(value)
            return value
        }
    }
}

/// The label values of one `sluice_requests_total` series.
struct RequestLabels: Hashable, Sendable {
    var route: String
    var status: String
    var cache: String

    var dimensions: [(String, String)] {
        [("route", route), ("status", status), ("cache", cache)]
    }
}

/// A key id and a model, both already bounded: the labels of the spend families.
struct SpendLabels: Hashable, Sendable {
    var keyID: String
    var model: String

    static let overflow = SpendLabels(keyID: MetricLabels.other, model: MetricLabels.other)
}

/// A key id (bounded) and a budget window.
struct BudgetWindowLabels: Hashable, Sendable {
    var keyID: String
    var window: String
}
