import SluiceCore
import Synchronization
import XCTest
@testable import SluiceServer

final class UsageRecorderTests: XCTestCase {
    /// A row told apart by its timestamp.
    private func row(_ number: Int) -> UsageRecord {
        UsageRecord(
            timestamp: Double(number), keyID: "web", model: "m", route: "/v1/chat/completions", streaming: false,
            status: 200, cacheOutcome: .miss, latencyMs: 1, requestBytes: 10, responseBytes: 20)
    }

    private func numbers(_ rows: [UsageRecord]) -> [Int] {
        rows.map { Int($0.timestamp) }
    }

    func testTakesRowsOldestFirst() {
        let recorder = UsageRecorder(capacity: 10)
        for number in 1...5 { recorder.record(row(number)) }
        XCTAssertEqual(recorder.depth, 5)
        XCTAssertEqual(numbers(recorder.take(limit: 3)), [1, 2, 3])
        XCTAssertEqual(numbers(recorder.take(limit: 10)), [4, 5])
        XCTAssertEqual(recorder.take(limit: 10), [])
        XCTAssertEqual(recorder.depth, 0)
        XCTAssertEqual(recorder.droppedCount, 0)
    }

    func testTakeWithZeroLimitTakesNothing() {
        let recorder = UsageRecorder(capacity: 10)
        recorder.record(row(1))
        XCTAssertEqual(recorder.take(limit: 0), [])
        XCTAssertEqual(recorder.depth, 1)
    }

    func testAFullQueueDropsTheOldestAndCountsIt() {
        let recorder = UsageRecorder(capacity: 3)
        for number in 1...5 { recorder.record(row(number)) }
        XCTAssertEqual(recorder.depth, 3)
        XCTAssertEqual(recorder.droppedCount, 2)
        XCTAssertEqual(numbers(recorder.take(limit: 10)), [3, 4, 5])
    }

    func testPutBackReturnsRowsToTheFrontInOrder() {
        let recorder = UsageRecorder(capacity: 10)
        for number in 1...4 { recorder.record(row(number)) }
        let batch = recorder.take(limit: 2)
        recorder.record(row(5))
        recorder.putBack(batch)
        XCTAssertEqual(numbers(recorder.take(limit: 10)), [1, 2, 3, 4, 5])
        XCTAssertEqual(recorder.droppedCount, 0)
    }

    func testPutBackStaysWithinTheBoundDroppingTheOldest() {
        let recorder = UsageRecorder(capacity: 4)
        for number in 1...3 { recorder.record(row(number)) }
        let batch = recorder.take(limit: 3)
        for number in 4...6 { recorder.record(row(number)) }
        recorder.putBack(batch)
        XCTAssertEqual(recorder.depth, 4)
        XCTAssertEqual(recorder.droppedCount, 2)
        XCTAssertEqual(numbers(recorder.take(limit: 10)), [3, 4, 5, 6])
    }

    func testPutBackIntoAFullQueueDropsItAll() {
        let recorder = UsageRecorder(capacity: 2)
        recorder.record(row(1))
        let batch = recorder.take(limit: 1)
        recorder.record(row(2))
        recorder.record(row(3))
        recorder.putBack(batch)
        XCTAssertEqual(recorder.droppedCount, 1)
        XCTAssertEqual(numbers(recorder.take(limit: 10)), [2, 3])
    }

    func testWaitForRowsReturnsAtOnceWhenRowsAreQueued() async {
        let recorder = UsageRecorder(capacity: 10)
        recorder.record(row(1))
        let returned = expectation(description: "waitForRows returned")
        let waiter = Task {
            await recorder.waitForRows()
            returned.fulfill()
        }
        await fulfillment(of: [returned], timeout: 5)
        await waiter.value
    }

    func testWaitForRowsWakesOnRecord() async throws {
        let recorder = UsageRecorder(capacity: 10)
        let (returned, waiter) = startWaiting(on: recorder)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertFalse(returned.isSet, "nothing queued yet")
        recorder.record(row(1))
        await waiter.value
        XCTAssertTrue(returned.isSet)
        XCTAssertEqual(recorder.depth, 1)
    }

    func testWaitForRowsWakesOnWake() async throws {
        let recorder = UsageRecorder(capacity: 10)
        let (returned, waiter) = startWaiting(on: recorder)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertFalse(returned.isSet, "nothing queued yet")
        recorder.wake()
        await waiter.value
        XCTAssertTrue(returned.isSet)
        XCTAssertEqual(recorder.depth, 0)
    }

    func testCloseWakesAWaiterAndLaterWaitsReturnAtOnce() async throws {
        let recorder = UsageRecorder(capacity: 10)
        let (returned, waiter) = startWaiting(on: recorder)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertFalse(returned.isSet, "nothing queued yet")
        recorder.close()
        await waiter.value
        XCTAssertTrue(returned.isSet)
        // A close that lands before the wait (the lost wake-up at shutdown) still ends it.
        let started = ContinuousClock.now
        let (returnedAgain, waiterAgain) = startWaiting(on: recorder)
        await waiterAgain.value
        XCTAssertTrue(returnedAgain.isSet)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "returned at once, not by the 10 s safety wake")
    }

    func testWakeWithoutAWaiterDoesNothing() {
        let recorder = UsageRecorder(capacity: 10)
        recorder.wake()
        recorder.record(row(1))
        XCTAssertEqual(recorder.depth, 1)
    }

    /// Starts a task that waits for rows; a safety wake after 10 s turns a lost wake-up into a failure, not a hang.
    private func startWaiting(on recorder: UsageRecorder) -> (UsageRecorderFlag, Task<Void, Never>) {
        let returned = UsageRecorderFlag()
        let waiter = Task {
            await recorder.waitForRows()
            returned.set()
        }
        Task {
            try? await Task.sleep(for: .seconds(10))
            if !returned.isSet { XCTFail("waitForRows was never woken"); recorder.wake() }
        }
        return (returned, waiter)
    }
}

/// A flag one task sets and another reads.
final class UsageRecorderFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
