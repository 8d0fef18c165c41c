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
    private var backend: SQLiteCacheBackend!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "sluice-write-queue-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        backend = SQLiteCacheBackend(database: try SluiceDatabase.open(path: folder + "/sluice.db"), threadPool: threadPool)
        store = backend.store
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
        let queue = CacheWriteQueue(backend: backend, health: HealthMonitor(logger: Logger(label: "test")))
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
        let queue = CacheWriteQueue(backend: backend, health: HealthMonitor(logger: Logger(label: "test")))
        for round in 0..<50 {
            queue.enqueue(answer(7, bytes: 10 + round, createdAt: 1_000 + Double(round)))
        }
        await queue.drain()
        XCTAssertEqual(try store.entry(forKey: answer(7).key)?.body.count, 59)
        XCTAssertEqual(try store.totals().entries, 1)
    }

    func testAFullQueueDropsAnswersInsteadOfGrowing() async throws {
        let gated = GatedBackend(backend)
        let queue = CacheWriteQueue(backend: gated, health: HealthMonitor(logger: Logger(label: "test")), maxPendingBytes: 250)
        // The first answer's write waits at the gate; two more fill the queue behind it.
        XCTAssertTrue(queue.enqueue(answer(0)))
        while gated.waitingWrites == 0 { try await Task.sleep(for: .milliseconds(1)) }
        XCTAssertTrue(queue.enqueue(answer(1)))
        XCTAssertTrue(queue.enqueue(answer(2)))
        XCTAssertFalse(queue.enqueue(answer(3)), "a third 100-byte answer exceeds 250 bytes pending")
        gated.open()
        await queue.drain()
        XCTAssertEqual(try store.totals().entries, 3)
        XCTAssertNil(try store.entry(forKey: answer(3).key))
        XCTAssertTrue(queue.enqueue(answer(3)), "room again once written")
        await queue.drain()
        XCTAssertEqual(try store.totals().entries, 4)
    }

    func testAnswersAreWrittenWhenThePoolHasStopped() async throws {
        let stopped = NIOThreadPool(numberOfThreads: 1)  // never started: the backend writes from its caller
        let backend = SQLiteCacheBackend(database: try SluiceDatabase.open(path: folder + "/other.db"), threadPool: stopped)
        let queue = CacheWriteQueue(backend: backend, health: HealthMonitor(logger: Logger(label: "test")))
        XCTAssertTrue(queue.enqueue(answer(1)))
        XCTAssertTrue(queue.enqueue(answer(2)))
        await queue.drain()
        XCTAssertEqual(try backend.store.totals().entries, 2, "written even with the pool stopped (shutdown)")
    }
}

/// A backend whose writes wait until the test opens the gate.
private final class GatedBackend: CacheBackend, @unchecked Sendable {
    private let inner: SQLiteCacheBackend
    private let lock = NSLock()
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ inner: SQLiteCacheBackend) { self.inner = inner }

    var waitingWrites: Int { lock.withLock { waiting.count } }

    func open() {
        let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            isOpen = true
            defer { waiting = [] }
            return waiting
        }
        resumed.forEach { $0.resume() }
    }

    func store(_ batch: [CachedResponse]) async throws {
        await withCheckedContinuation { continuation in
            let now = lock.withLock { () -> Bool in
                if isOpen { return true }
                waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        try await inner.store(batch)
    }

    var readsSynchronously: Bool { true }
    func entryNow(forKey key: String) throws -> CachedResponse? { try inner.entryNow(forKey: key) }
    func entry(forKey key: String) async throws -> CachedResponse? { try await inner.entry(forKey: key) }
    func recordHits(_ hits: [Int64: PendingHits]) async throws { try await inner.recordHits(hits) }
    func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int { try await inner.purge(model: model, olderThan: olderThan, all: all) }
    func deleteExpired(now: Double) async throws -> Int { try await inner.deleteExpired(now: now) }
    func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int {
        try await inner.evictLeastRecentlyUsed(whenOver: limit, downTo: target)
    }
    func totals() async throws -> (entries: Int, bodyBytes: Int) { try await inner.totals() }
    func checkpoint() async throws { try await inner.checkpoint() }
    func changedElsewhere() async throws -> Bool { try await inner.changedElsewhere() }
}
