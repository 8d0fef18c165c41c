import Logging
import NIOConcurrencyHelpers
@testable import SluiceServer
import XCTest

/// Repeated failures are logged once per interval with a count (`FailureThrottle`,
/// `HealthMonitor`), and `/healthz` names the failing components (`ComponentHealth`).
final class FailureLogTests: XCTestCase {
    private var clock: ManualElapsedClock!
    private var lines: CapturedLogLines!
    private var health: HealthMonitor!

    override func setUp() {
        clock = ManualElapsedClock()
        lines = CapturedLogLines()
        let lines = lines!
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
        health = HealthMonitor(logger: logger, logInterval: .seconds(30), forgetAfter: .seconds(60), now: clock.read)
    }

    func testTheFirstFailureIsLoggedAtOnceAndLaterOnesWithinTheIntervalOnlyCount() {
        health.failed(.cacheStore, error: "database or disk is full")
        XCTAssertEqual(lines.all.count, 1)
        XCTAssertEqual(lines.all.first?.level, .error)
        XCTAssertEqual(lines.all.first?.message, "cache store failed; answers served but not cached")
        XCTAssertEqual(lines.all.first?.metadata["kind"], "cache_store")
        XCTAssertEqual(lines.all.first?.metadata["error"], "database or disk is full")
        XCTAssertNil(lines.all.first?.metadata["repeated"])

        for index in 0..<1_000 {
            clock.advance(by: .milliseconds(29))  // 29 s in all: still within the interval
            health.failed(.cacheStore, error: "failure \(index)")
        }
        XCTAssertEqual(lines.all.count, 1, "1000 more failures within 30 s give no line")

        clock.advance(by: .seconds(1))
        health.failed(.cacheStore, error: "the latest error")
        XCTAssertEqual(lines.all.count, 2)
        let summary = lines.all.last
        XCTAssertEqual(summary?.message, "cache store failed; answers served but not cached")
        XCTAssertEqual(summary?.metadata["repeated"], "1001", "the failures since the last line, this one included")
        XCTAssertEqual(summary?.metadata["error"], "the latest error")
        XCTAssertEqual(summary?.metadata["failing_for"], "30s")

        health.failed(.cacheStore, error: "again")
        XCTAssertEqual(lines.all.count, 2, "the interval starts again from the summary line")
    }

    func testASuccessAfterFailuresLogsOneRecoveredLineAndClearsTheState() {
        health.succeeded(.usageWrite)
        XCTAssertTrue(lines.all.isEmpty, "a success with nothing failing logs nothing")

        health.failed(.usageWrite, error: "disk full", metadata: ["rows": "12"])
        XCTAssertEqual(lines.all.last?.message, "could not write usage rows; will retry")
        XCTAssertEqual(lines.all.last?.metadata["rows"], "12")
        for _ in 0..<9 { health.failed(.usageWrite, error: "disk full") }
        clock.advance(by: .seconds(5))
        health.succeeded(.usageWrite)
        XCTAssertEqual(lines.all.count, 2)
        let recovered = lines.all.last
        XCTAssertEqual(recovered?.level, .info)
        XCTAssertEqual(recovered?.message, "recovered")
        XCTAssertEqual(recovered?.metadata["kind"], "usage_write")
        XCTAssertEqual(recovered?.metadata["failures"], "10")
        XCTAssertEqual(recovered?.metadata["failed_for"], "5s")

        health.succeeded(.usageWrite)
        XCTAssertEqual(lines.all.count, 2, "one recovered line, then nothing")
        health.failed(.usageWrite, error: "disk full again")
        XCTAssertEqual(lines.all.count, 3, "a new episode's first failure is logged at once")
        XCTAssertNil(lines.all.last?.metadata["repeated"])
    }

    func testKindsAreThrottledApart() {
        health.failed(.cacheStore, error: "full")
        health.failed(.usageWrite, error: "full")
        health.failed(.cacheStore, error: "full")
        health.failed(.upstreamConnect, error: "connection refused")
        XCTAssertEqual(lines.all.map { $0.metadata["kind"] }, ["cache_store", "usage_write", "upstream_connect"])
        XCTAssertEqual(lines.all.last?.level, .warning)
    }

    func testUnloggedFailuresAreSummarisedOnTheTimerWhenNoLaterFailureComes() {
        health.failed(.cacheHitFlush, error: "full")
        health.failed(.cacheHitFlush, error: "full")
        health.failed(.cacheHitFlush, error: "still full")
        health.logDueSummaries()
        XCTAssertEqual(lines.all.count, 1, "not before the interval")
        clock.advance(by: .seconds(30))
        health.logDueSummaries()
        XCTAssertEqual(lines.all.count, 2)
        XCTAssertEqual(lines.all.last?.metadata["repeated"], "2")
        XCTAssertEqual(lines.all.last?.metadata["error"], "still full")
        clock.advance(by: .seconds(60))
        health.logDueSummaries()
        XCTAssertEqual(lines.all.count, 2, "nothing new to report")
    }

    func testHealthzNamesTheFailingComponentsUntilTheyRecover() {
        XCTAssertEqual(health.healthzBody, #"{"status":"ok"}"#)
        health.failed(.cacheStore, error: "full")
        XCTAssertEqual(health.healthzBody, #"{"status":"ok","database":"failing"}"#)
        health.failed(.upstreamConnect, error: "connection refused")
        XCTAssertEqual(health.healthzBody, #"{"status":"ok","database":"failing","upstream":"failing"}"#)

        health.upstreamSucceeded()
        XCTAssertEqual(health.healthzBody, #"{"status":"ok","database":"failing"}"#)
        health.succeeded(.cacheLookup)
        XCTAssertEqual(health.healthzBody, #"{"status":"ok","database":"failing"}"#,
                       "a read that works does not hide a write that fails")
        health.succeeded(.cacheStore)
        XCTAssertEqual(health.healthzBody, #"{"status":"ok"}"#)
    }

    func testAComponentNoLongerFailingForAMinuteIsForgotten() {
        health.failed(.usagePrune, error: "full")
        clock.advance(by: .seconds(59))
        XCTAssertEqual(health.healthzBody, #"{"status":"ok","database":"failing"}"#)
        clock.advance(by: .seconds(1))
        XCTAssertEqual(health.healthzBody, #"{"status":"ok"}"#)
    }

    func testFailuresAreCountedInMetrics() {
        let metrics = SluiceMetrics()
        let health = HealthMonitor(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, metrics: metrics, now: clock.read)
        for _ in 0..<3 { health.failed(.cacheStore, error: "full") }
        health.failed(.cacheQueueFull, error: "full", count: 5)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertTrue(text.contains(#"sluice_failures_total{kind="cache_store"} 3"#), text)
        XCTAssertTrue(text.contains(#"sluice_failures_total{kind="cache_queue_full"} 5"#), text)
    }

    func testTheThrottleAlone() {
        var throttle = FailureThrottle(interval: .seconds(30))
        XCTAssertEqual(throttle.failure(.cacheLookup, error: "e", at: .seconds(0)), .first(.cacheLookup, error: "e", count: 1))
        XCTAssertNil(throttle.failure(.cacheLookup, error: "e", at: .seconds(10)))
        XCTAssertEqual(throttle.failure(.cacheLookup, error: "f", at: .seconds(30)),
                       .repeated(.cacheLookup, error: "f", count: 2, failingFor: .seconds(30)))
        XCTAssertEqual(throttle.success(.cacheLookup, at: .seconds(40)), .recovered(.cacheLookup, failures: 3, failedFor: .seconds(40)))
        XCTAssertNil(throttle.success(.cacheLookup, at: .seconds(41)))
    }
}

/// Time that moves only when the test says so.
private final class ManualElapsedClock: Sendable {
    private let elapsed = NIOLockedValueBox(Duration.seconds(1_000))
    func advance(by duration: Duration) { elapsed.withLockedValue { $0 += duration } }
    var read: @Sendable () -> Duration { { [elapsed] in elapsed.withLockedValue { $0 } } }
}

private struct CapturedLine: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
}

private final class CapturedLogLines: Sendable {
    private let lines = NIOLockedValueBox<[CapturedLine]>([])
    func append(_ line: CapturedLine) { lines.withLockedValue { $0.append(line) } }
    var all: [CapturedLine] { lines.withLockedValue { $0 } }
}

private struct CapturingLogHandler: LogHandler {
    let lines: CapturedLogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        lines.append(CapturedLine(
            level: event.level, message: event.message.description,
            metadata: merged.mapValues { "\($0)" }))
    }
}
