import Foundation
import SluiceCore
@testable import SluiceStore
import XCTest

/// A scratch folder for one test, removed when the test ends.
final class ScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sluice-store-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Builds usage rows for tests and benchmarks.
enum UsageRows {
    static func make(
        at timestamp: Double, key: String = "web", model: String? = "openai/gpt-4o-mini",
        route: String = "/v1/chat/completions", status: Int = 200, outcome: CacheOutcome = .miss,
        usage: TokenUsage? = nil, saved: TokenUsage? = nil, latencyMs: Double = 100
    ) -> UsageRecord {
        UsageRecord(
            timestamp: timestamp, keyID: key, model: model, route: route, streaming: false,
            status: status, cacheOutcome: outcome, usage: usage, saved: saved,
            firstByteLatencyMs: latencyMs / 2, latencyMs: latencyMs,
            upstreamLatencyMs: outcome == .hit ? nil : latencyMs * 0.9,
            requestBytes: 300, responseBytes: 900, errorCode: status == 429 ? "rate_limit_exceeded" : nil)
    }

    static let generatedModels = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash", "openai/gpt-5"]
    static let generatedKeys = ["web", "batch", "a1b2c3d4e5f6"]

    /// Row `index` of the generated series: every third a hit, every 50th a 429,
    /// every 97th (not 50th) a 502.
    static func generated(_ index: Int, start: Double, spacing: Double) -> UsageRecord {
        let isHit = index % 3 == 0
        let status = index % 50 == 0 ? 429 : (index % 97 == 0 ? 502 : 200)
        let tokens = TokenUsage(
            promptTokens: 100 + index % 400, completionTokens: 20 + index % 80,
            totalTokens: 120 + index % 400 + index % 80, cost: 0.0001 * Double(1 + index % 7))
        return make(
            at: start + Double(index) * spacing,
            key: generatedKeys[index % generatedKeys.count], model: generatedModels[index % generatedModels.count],
            status: status, outcome: isHit ? .hit : .miss,
            usage: isHit ? nil : tokens, saved: isHit ? tokens : nil,
            latencyMs: Double((index &* 7919) % 3000) + 0.5)
    }

    /// Inserts `count` generated rows in batches of 5,000, as the daemon's flusher would.
    static func insertGenerated(count: Int, start: Double, spacing: Double, into store: UsageStore) throws {
        var batch: [UsageRecord] = []
        batch.reserveCapacity(5_000)
        for index in 0..<count {
            batch.append(generated(index, start: start, spacing: spacing))
            if batch.count == 5_000 {
                try store.insert(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try store.insert(batch)
    }
}

extension XCTestCase {
    /// Asserts that `body` throws a `SluiceStoreError` and returns it.
    func assertStoreError<T>(
        _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) -> SluiceStoreError? {
        do {
            _ = try body()
            XCTFail("expected a SluiceStoreError", file: file, line: line)
        } catch let error as SluiceStoreError {
            return error
        } catch {
            XCTFail("expected a SluiceStoreError, got \(error)", file: file, line: line)
        }
        return nil
    }
}
