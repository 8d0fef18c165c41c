/// Decides which failures get a log line, so that a failing disk or upstream
/// gives a line per interval rather than one per request. Pure: time is passed
/// in as the time elapsed on a monotonic clock.
///
/// The first failure of a kind is logged at once. Later ones within `interval`
/// of the last line are only counted; the next failure after it (or
/// `dueSummaries`, called on a timer) gives one line with how many there were
/// since the last line and the latest error. A success of the kind ends the
/// episode with one "recovered" line.
struct FailureThrottle: Sendable {
    /// A line to log.
    enum Line: Equatable, Sendable {
        /// The first failure of an episode; `count` > 1 when one failure stands for several (dropped answers).
        case first(FailureKind, error: String, count: Int)
        /// `count` failures since the previous line, the latest with `error`.
        case repeated(FailureKind, error: String, count: Int, failingFor: Duration)
        /// The kind works again after `failures` failures over `failedFor`.
        case recovered(FailureKind, failures: Int, failedFor: Duration)
    }

    private struct Episode: Sendable {
        var startedAt: Duration
        var lastLineAt: Duration
        /// Failures since the last line.
        var unlogged = 0
        /// Failures since the episode began.
        var total: Int
        var lastError: String
    }

    let interval: Duration
    private var episodes: [FailureKind: Episode] = [:]

    init(interval: Duration = .seconds(30)) {
        self.interval = interval
    }

    /// Whether `kind` has failed since its last success.
    func isFailing(_ kind: FailureKind) -> Bool { episodes[kind] != nil }

    mutating func failure(_ kind: FailureKind, error: String, count: Int = 1, at now: Duration) -> Line? {
        guard var episode = episodes[kind] else {
            episodes[kind] = Episode(startedAt: now, lastLineAt: now, total: count, lastError: error)
            return .first(kind, error: error, count: count)
        }
        episode.unlogged += count
        episode.total += count
        episode.lastError = error
        var line: Line?
        if now - episode.lastLineAt >= interval {
            line = .repeated(kind, error: error, count: episode.unlogged, failingFor: now - episode.startedAt)
            episode.unlogged = 0
            episode.lastLineAt = now
        }
        episodes[kind] = episode
        return line
    }

    mutating func success(_ kind: FailureKind, at now: Duration) -> Line? {
        guard let episode = episodes.removeValue(forKey: kind) else { return nil }
        return .recovered(kind, failures: episode.total, failedFor: now - episode.startedAt)
    }

    /// Lines for kinds whose failures have gone unlogged for `interval` or
    /// longer with no further failure to carry them.
    mutating func dueSummaries(at now: Duration) -> [Line] {
        var lines: [Line] = []
        for kind in FailureKind.allCases {
            guard var episode = episodes[kind], episode.unlogged > 0, now - episode.lastLineAt >= interval else { continue }
            lines.append(.repeated(kind, error: episode.lastError, count: episode.unlogged, failingFor: now - episode.startedAt))
            episode.unlogged = 0
            episode.lastLineAt = now
            episodes[kind] = episode
        }
        return lines
    }
}
