import Foundation
import Logging
import NIOPosix
import SluiceCore
@testable import SluiceServer
import SluiceStore
import XCTest

final class CacheWriteQueueTests: XCTestCase {
    private var folder: String!
    private var threadPool: NIOThreadPool!
    private var store: CacheStore!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "sluice-write-queue-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = CacheStore(database: try SluiceDatabase.open(path: folder + "/sluice.db"))
        threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
    }

    override func tearDown() async throws {
        try await threadPool.shutdownGracefully()
        store = nil
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func answer(_ index: Int, bytes: Int = 100, createdAt: Double = 1_000) -> CachedResponse {
        CachedResponse(
            key: CacheKey(route: "/v1/chat/completions", scope: nil, canonicalBody: Array("request \(index)".utf8)).hex,
            keyID: "web", model: "m", route: "/v1/chat/completions", status: 200, contentType: "application/json",
            body: [UInt8](repeating: UInt8(index % 256), count: bytes), createdAt: createdAt, expiresAt: createdAt + 3_600)
    }

    func testEveryQueuedAnswerIsStoredByTheTimeDrainReturns() async throws {
        let queue = CacheWriteQueue(store: store, threadPool: threadPool, health: HealthMonitor(logger: Logger(label: "test")))
        for index in 0..<500 {
            XCTAssertTrue(queue.enqueue(answer(index)))
        }
        await queue.drain()
        XCTAssertEqual(queue.pendingCount, 0)
        XCTAssertEqual(try store.totals().entries, 500)
        for index in [0, 250, 499] {
            XCTAssertEqual(try store.entry(forKey: answer(index).key), answer(index))
        }
    }

    func testALaterAnswerForTheSameKeyWins() async throws {
        let queue = CacheWriteQueue(store: store, threadPool: threadPool, health: HealthMonitor(logger: Logger(label: "test")))
        for round in 0..<50 {
            queue.enqueue(answer(7, bytes: 10 + round, createdAt: 1_000 + Double(round)))
        }
        await queue.drain()
        XCTAssertEqual(try store.entry(forKey: answer(7).key)?.body.count, 59)
        XCTAssertEqual(try store.totals().entries, 1)
    }

    func testAFullQueueDropsAnswersInsteadOfGrowing() async throws {
        let stopped = NIOThreadPool(numberOfThreads: 1)  // never started: nothing is written until drain
        let queue = CacheWriteQueue(store: store, threadPool: stopped, health: HealthMonitor(logger: Logger(label: "test")), maxPendingBytes: 250)
        XCTAssertTrue(queue.enqueue(answer(1)))
        XCTAssertTrue(queue.enqueue(answer(2)))
        XCTAssertFalse(queue.enqueue(answer(3)), "a third 100-byte answer exceeds 250 bytes pending")
        await queue.drain()
        XCTAssertEqual(try store.totals().entries, 2)
        XCTAssertNil(try store.entry(forKey: answer(3).key))
        XCTAssertTrue(queue.enqueue(answer(3)), "room again once written")
        await queue.drain()
        XCTAssertEqual(try store.totals().entries, 3)
    }
}
