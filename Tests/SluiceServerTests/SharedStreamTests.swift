import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import XCTest
@testable import SluiceServer

/// The bounds of a stream shared by identical requests: what it keeps for late
/// joiners, how far a slow reader may fall behind, and who ends the upstream read.
final class SharedStreamTests: XCTestCase {
    private let head = SharedStream.Head(status: .ok, headers: ["content-type": "text/event-stream"], started: .now)

    private func chunk(_ size: Int) -> ByteBuffer { ByteBuffer(repeating: UInt8(ascii: "x"), count: size) }

    private func readAll(_ subscription: Subscription) async throws -> Int {
        var body = subscription.body(head: try await subscription.head(), opener: false)
        var bytes = 0
        while let part = try await body.next() { bytes += part.readableBytes }
        return bytes
    }

    func testALateJoinerGetsEveryChunkFromTheStart() async throws {
        let stream = SharedStream(retainLimit: 1000, lagLimit: 1000)
        let first = try XCTUnwrap(stream.subscribe())
        stream.publishHead(.success(head))
        await stream.publish(chunk(10))
        await stream.publish(chunk(20))
        let late = try XCTUnwrap(stream.subscribe())
        await stream.publish(chunk(30))
        stream.finish(.finished(usage: nil))
        let (a, b) = try await (readAll(first), readAll(late))
        XCTAssertEqual([a, b], [60, 60])
    }

    func testPastTheRetainLimitNobodyJoinsAndReadChunksAreDropped() async throws {
        let stream = SharedStream(retainLimit: 100, lagLimit: 1000)
        let reader = try XCTUnwrap(stream.subscribe())
        stream.publishHead(.success(head))
        await stream.publish(chunk(80))
        XCTAssertTrue(stream.isJoinable)
        await stream.publish(chunk(80))
        XCTAssertFalse(stream.isJoinable, "160 bytes kept is past the limit of 100")
        XCTAssertNil(stream.subscribe())
        var body = reader.body(head: try await reader.head(), opener: true)
        _ = try await body.next()
        _ = try await body.next()
        XCTAssertEqual(stream.keptBytes, 0, "chunks every reader has read are dropped")
        reader.cancel()
    }

    func testTheProducerWaitsForTheSlowestReader() async throws {
        let stream = SharedStream(retainLimit: 10, lagLimit: 100)
        let reader = try XCTUnwrap(stream.subscribe())
        stream.publishHead(.success(head))
        await stream.publish(chunk(100))  // exactly at the limit: no wait
        let published = ManagedAtomicFlag()
        let oneMore = chunk(1)
        let producer = Task {
            await stream.publish(oneMore)
            published.set()
        }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertFalse(published.isSet, "101 bytes behind: the producer waits")
        var body = reader.body(head: try await reader.head(), opener: true)
        _ = try await body.next()
        await producer.value
        XCTAssertTrue(published.isSet, "reading lets it go on")
        reader.cancel()
    }

    func testTheLastReaderLeavingCancelsTheProducer() async throws {
        let stream = SharedStream(retainLimit: 1000, lagLimit: 1000)
        let first = try XCTUnwrap(stream.subscribe())
        let second = try XCTUnwrap(stream.subscribe())
        let cancelled = ManagedAtomicFlag()
        stream.start { _ in
            await withTaskCancellationHandler {
                try? await Task.sleep(for: .seconds(30))
            } onCancel: {
                cancelled.set()
            }
        }
        first.cancel()
        XCTAssertFalse(stream.isAbandoned, "one reader is left")
        second.cancel()
        XCTAssertTrue(stream.isAbandoned)
        for _ in 0..<100 where !cancelled.isSet { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(cancelled.isSet, "the upstream read was cancelled")
        XCTAssertNil(stream.subscribe(), "an abandoned stream takes no one")
    }

    func testAFailedHeadFailsEveryReader() async throws {
        let stream = SharedStream(retainLimit: 1000, lagLimit: 1000)
        let reader = try XCTUnwrap(stream.subscribe())
        let waiting = Task { () -> Int? in
            do throws(SluiceError) { _ = try await reader.head(); return nil } catch { return error.status }
        }
        try await Task.sleep(for: .milliseconds(20))
        stream.publishHead(.failure(.upstreamUnreachable("connection refused")))
        let status = await waiting.value
        XCTAssertEqual(status, 502)
    }

    func testACancelledReaderStopsWaiting() async throws {
        let stream = SharedStream(retainLimit: 1000, lagLimit: 1000)
        let reader = try XCTUnwrap(stream.subscribe())
        stream.publishHead(.success(head))
        let waiting = Task { () -> Bool in
            var body = reader.body(head: try await reader.head(), opener: false)
            do { _ = try await body.next(); return false } catch { return true }
        }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        let threw = try await waiting.value
        XCTAssertTrue(threw, "a cancelled reader ends with client_closed")
    }
}

/// A flag set from another task.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
