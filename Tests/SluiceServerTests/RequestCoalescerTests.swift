import SluiceCore
import XCTest
@testable import SluiceServer

final class RequestCoalescerTests: XCTestCase {
    private typealias Coalescer = RequestCoalescer<String, Int>
    private typealias Answer = (outcome: Result<Int, SluiceError>, role: Coalescer.Role)

    /// Work that counts its runs and answers `value` once `gate` opens.
    private static func gatedWork(
        _ value: Int, runs: RequestCoalescerCounter, gate: RequestCoalescerGate
    ) -> @Sendable () async -> Result<Int, SluiceError> {
        {
            runs.increment()
            await gate.wait()
            return .success(value)
        }
    }

    /// Opens `gate` after a while, so a broken coalescer fails its test instead of hanging it.
    private func openEventually(_ gate: RequestCoalescerGate) -> Task<Void, Never> {
        Task {
            try? await Task.sleep(for: .seconds(10))
            gate.open()
        }
    }

    func testConcurrentCallersShareOneRun() async {
        let coalescer = Coalescer()
        let runs = RequestCoalescerCounter()
        let gate = RequestCoalescerGate()
        let work = Self.gatedWork(42, runs: runs, gate: gate)
        let answers = await withTaskGroup(of: Answer.self) { group -> [Answer] in
            for _ in 0..<20 {
                group.addTask { await coalescer.run(key: "same", work: work) }
            }
            let allJoined = await RequestCoalescerPoll.until { coalescer.waiterCount(for: "same") == 20 }
            XCTAssertTrue(allJoined)
            XCTAssertEqual(coalescer.inFlightCount, 1)
            gate.open()
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(runs.value, 1)
        XCTAssertEqual(answers.filter { $0.role == .leader }.count, 1)
        XCTAssertEqual(answers.filter { $0.role == .follower }.count, 19)
        XCTAssertTrue(answers.allSatisfy { $0.outcome == .success(42) })
        XCTAssertEqual(coalescer.inFlightCount, 0)
    }

    func testDifferentKeysDoNotShare() async {
        let coalescer = Coalescer()
        let runs = RequestCoalescerCounter()
        let gate = RequestCoalescerGate()
        let safety = openEventually(gate)
        defer { safety.cancel() }
        let workA = Self.gatedWork(1, runs: runs, gate: gate)
        let workB = Self.gatedWork(2, runs: runs, gate: gate)
        async let first = coalescer.run(key: "a", work: workA)
        async let second = coalescer.run(key: "b", work: workB)
        let bothRunning = await RequestCoalescerPoll.until { runs.value == 2 }
        XCTAssertTrue(bothRunning)
        XCTAssertEqual(coalescer.inFlightCount, 2)
        gate.open()
        let (a, b) = await (first, second)
        XCTAssertEqual(a.outcome, .success(1))
        XCTAssertEqual(b.outcome, .success(2))
        XCTAssertEqual([a.role, b.role], [.leader, .leader])
    }

    func testFailureReachesEveryWaiter() async {
        let coalescer = Coalescer()
        let gate = RequestCoalescerGate()
        let runs = RequestCoalescerCounter()
        let work: @Sendable () async -> Result<Int, SluiceError> = {
            runs.increment()
            await gate.wait()
            return .failure(.upstreamTimeout(seconds: 300))
        }
        let answers = await withTaskGroup(of: Answer.self) { group -> [Answer] in
            for _ in 0..<5 {
                group.addTask { await coalescer.run(key: "k", work: work) }
            }
            let allJoined = await RequestCoalescerPoll.until { coalescer.waiterCount(for: "k") == 5 }
            XCTAssertTrue(allJoined)
            gate.open()
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(runs.value, 1)
        XCTAssertEqual(answers.count, 5)
        XCTAssertTrue(answers.allSatisfy { $0.outcome == .failure(.upstreamTimeout(seconds: 300)) })
        XCTAssertEqual(coalescer.inFlightCount, 0)
    }

    func testACancelledWaiterLeavesAtOnceAndTheOthersGetTheValue() async {
        let coalescer = Coalescer()
        let runs = RequestCoalescerCounter()
        let gate = RequestCoalescerGate()
        let safety = openEventually(gate)
        defer { safety.cancel() }
        let work = Self.gatedWork(7, runs: runs, gate: gate)
        let callers = (0..<4).map { _ in Task { await coalescer.run(key: "k", work: work) } }
        let allJoined = await RequestCoalescerPoll.until { coalescer.waiterCount(for: "k") == 4 }
        XCTAssertTrue(allJoined)

        let leaving = callers[3]
        leaving.cancel()
        let left = await leaving.value
        XCTAssertEqual(left.outcome, .failure(.clientClosed), "returned before the work finished")
        XCTAssertEqual(coalescer.waiterCount(for: "k"), 3)
        XCTAssertEqual(coalescer.inFlightCount, 1, "the others still wait")

        gate.open()
        for caller in callers.prefix(3) {
            let answer = await caller.value
            XCTAssertEqual(answer.outcome, .success(7))
        }
        XCTAssertEqual(runs.value, 1)
    }

    func testCancellingTheLeaderDoesNotCancelTheWork() async {
        let coalescer = Coalescer()
        let gate = RequestCoalescerGate()
        let safety = openEventually(gate)
        defer { safety.cancel() }
        let workWasCancelled = RequestCoalescerCounter()
        let work: @Sendable () async -> Result<Int, SluiceError> = {
            await gate.wait()
            if Task.isCancelled { workWasCancelled.increment() }
            return .success(9)
        }
        let leader = Task { await coalescer.run(key: "k", work: work) }
        let leaderJoined = await RequestCoalescerPoll.until { coalescer.waiterCount(for: "k") == 1 }
        XCTAssertTrue(leaderJoined)
        let follower = Task { await coalescer.run(key: "k", work: work) }
        let followerJoined = await RequestCoalescerPoll.until { coalescer.waiterCount(for: "k") == 2 }
        XCTAssertTrue(followerJoined)

        leader.cancel()
        let leaderAnswer = await leader.value
        XCTAssertEqual(leaderAnswer.role, .leader)
        XCTAssertEqual(leaderAnswer.outcome, .failure(.clientClosed))

        gate.open()
        let followerAnswer = await follower.value
        XCTAssertEqual(followerAnswer.role, .follower)
        XCTAssertEqual(followerAnswer.outcome, .success(9))
        XCTAssertEqual(workWasCancelled.value, 0)
    }

    func testAnAlreadyCancelledCallerStartsNothing() async {
        let coalescer = Coalescer()
        let runs = RequestCoalescerCounter()
        let start = RequestCoalescerGate()
        let caller = Task {
            await start.wait()
            return await coalescer.run(key: "k", work: { runs.increment(); return .success(1) })
        }
        caller.cancel()
        start.open()
        let answer = await caller.value
        XCTAssertEqual(answer.outcome, .failure(.clientClosed))
        XCTAssertEqual(runs.value, 0)
        XCTAssertEqual(coalescer.inFlightCount, 0)
    }

    func testAfterLandingANewCallRunsTheWorkAgain() async {
        let coalescer = Coalescer()
        let runs = RequestCoalescerCounter()
        let work: @Sendable () async -> Result<Int, SluiceError> = { .success(runs.increment()) }
        let first = await coalescer.run(key: "k", work: work)
        let second = await coalescer.run(key: "k", work: work)
        XCTAssertEqual(first.outcome, .success(1))
        XCTAssertEqual(second.outcome, .success(2))
        XCTAssertEqual([first.role, second.role], [.leader, .leader])
        XCTAssertEqual(coalescer.inFlightCount, 0)
    }

    /// Work that lands before its leader is back from starting it must still reach the leader.
    func testWorkThatFinishesAtOnceStillReachesItsCallers() async {
        let coalescer = Coalescer()
        for round in 0..<300 {
            let answer = await coalescer.run(key: "k\(round)", work: { .success(round) })
            XCTAssertEqual(answer.outcome, .success(round), "round \(round)")
        }
        let answers = await withTaskGroup(of: Answer.self) { group -> [Answer] in
            for _ in 0..<50 {
                group.addTask { await coalescer.run(key: "burst", work: { .success(5) }) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertTrue(answers.allSatisfy { $0.outcome == .success(5) })
        XCTAssertEqual(coalescer.inFlightCount, 0)
    }
}
