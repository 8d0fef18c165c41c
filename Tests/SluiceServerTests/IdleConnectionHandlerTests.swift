import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import SluiceServer
import XCTest

/// The idle timer on an `EmbeddedChannel`, whose clock moves only when told.
final class IdleConnectionHandlerTests: XCTestCase {
    private var channel: EmbeddedChannel!

    override func setUpWithError() throws {
        try super.setUpWithError()
        channel = EmbeddedChannel(handler: IdleConnectionHandler(timeout: .seconds(1)))
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8787), promise: nil)
        XCTAssertTrue(channel.isActive)
    }

    override func tearDownWithError() throws {
        _ = try? channel.finish()
        channel = nil
        try super.tearDownWithError()
    }

    private func advance(_ amount: TimeAmount) {
        channel.embeddedEventLoop.advanceTime(by: amount)
    }

    private var head: HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz", headers: ["host": "localhost"])
    }

    func testIdleConnectionIsClosedAtTheTimeout() {
        advance(.milliseconds(999))
        XCTAssertTrue(channel.isActive)
        advance(.milliseconds(1))
        XCTAssertFalse(channel.isActive, "closed one idle timeout after it opened")
    }

    func testIncompleteRequestDoesNotPushTheDeadlineBack() throws {
        advance(.milliseconds(500))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        advance(.milliseconds(400))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "x")))
        XCTAssertTrue(channel.isActive)
        advance(.milliseconds(100))
        XCTAssertFalse(channel.isActive, "a request still arriving is cut at the idle timeout")
    }

    func testRequestBeingAnsweredIsNotCutAndTimerRestartsAfterTheAnswer() throws {
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        XCTAssertNotNil(try channel.readInbound(as: HTTPServerRequestPart.self), "parts go on to the next handler")
        advance(.seconds(30))
        XCTAssertTrue(channel.isActive, "no timer while the request is answered")

        let answer = HTTPResponseHead(version: .http1_1, status: .ok)
        try channel.writeOutbound(HTTPServerResponsePart.head(answer))
        advance(.seconds(5))
        XCTAssertTrue(channel.isActive, "still answering until the answer's end")
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        advance(.milliseconds(999))
        XCTAssertTrue(channel.isActive)
        advance(.milliseconds(1))
        XCTAssertFalse(channel.isActive, "closed one idle timeout after the answer")
    }

    func testPipelinedRequestHandedOverWhileTheAnswerEndIsWrittenDisarms() throws {
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        // The next request arrives whole right after the answer.
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        advance(.seconds(10))
        XCTAssertTrue(channel.isActive)
    }

    func testStateMachine() {
        var state = IdleTimerState()
        XCTAssertEqual(state.requestReceived(), .none, "nothing before the connection opens")
        XCTAssertEqual(state.connectionOpened(), .arm)
        XCTAssertEqual(state.connectionOpened(), .none)
        XCTAssertTrue(state.timerFired())
        XCTAssertEqual(state.requestReceived(), .disarm)
        XCTAssertFalse(state.timerFired())
        XCTAssertEqual(state.answerWritten(), .arm)
        XCTAssertEqual(state.connectionClosed(), .disarm)
        XCTAssertFalse(state.timerFired())
        XCTAssertEqual(state.answerWritten(), .none)
    }
}

/// The open-file limit plan: raise the soft limit to 2 × connections + 256,
/// no higher than the hard limit, and lower the cap when even that is too low.
final class OpenFileLimitPlanTests: XCTestCase {
    func testSoftLimitIsRaisedToWhatTheConnectionsNeed() {
        let plan = OpenFileLimit.plan(maxConnections: 4096, soft: 1024, hard: 524_288)
        XCTAssertEqual(plan.soft, 8448)
        XCTAssertEqual(plan.maxConnections, 4096)
        XCTAssertFalse(plan.lowered)
    }

    func testHigherSoftLimitIsKept() {
        let plan = OpenFileLimit.plan(maxConnections: 100, soft: 20000, hard: 20000)
        XCTAssertEqual(plan.soft, 20000)
        XCTAssertEqual(plan.maxConnections, 100)
    }

    func testLowHardLimitLowersTheCap() {
        let plan = OpenFileLimit.plan(maxConnections: 4096, soft: 1024, hard: 4096)
        XCTAssertEqual(plan.soft, 4096)
        XCTAssertEqual(plan.maxConnections, (4096 - 256) / 2)
        XCTAssertTrue(plan.lowered)
        XCTAssertEqual(OpenFileLimit.plan(maxConnections: 50, soft: 100, hard: 100).maxConnections, 1, "never below one")
    }
}
