import Foundation

/// An answer the fake gateway wrote to the end.
struct RecordedAnswer: Sendable {
    var path: String
    var status: Int
    /// Every byte of the body, SSE events included.
    var body: Data
}

/// What the fake gateway saw and did.
struct FakeGatewayRecord: Sendable {
    /// Every request that reached the gateway, in arrival order.
    var requests: [RecordedRequest] = []
    /// Answers written to the end.
    var answers: [RecordedAnswer] = []
    /// Paths of answers cut short because the peer hung up (a write failed or the task was cancelled).
    var cancelledAnswers: [String] = []
}

/// Thread-safe log of `FakeGatewayRecord`, written by request tasks and read by tests.
final class FakeGatewayRecorder: Sendable {
    private let box = LockedBox(FakeGatewayRecord())

    var snapshot: FakeGatewayRecord { box.current }
    var requests: [RecordedRequest] { box.current.requests }
    var answers: [RecordedAnswer] { box.current.answers }
    var cancelledAnswers: [String] { box.current.cancelledAnswers }

    func record(_ request: RecordedRequest) {
        box.withLock { $0.requests.append(request) }
    }

    func record(_ answer: RecordedAnswer) {
        box.withLock { $0.answers.append(answer) }
    }

    func recordCancelledAnswer(path: String) {
        box.withLock { $0.cancelledAnswers.append(path) }
    }

    func reset() {
        box.withLock { $0 = FakeGatewayRecord() }
    }
}
