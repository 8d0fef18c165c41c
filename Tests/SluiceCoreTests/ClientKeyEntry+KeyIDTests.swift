import SluiceCore
import XCTest

final class ClientKeyEntryKeyIDTests: XCTestCase {
    private let web = ClientKeyEntry(name: "web", secret: .plain("sk-local-web-example"))
    private let batch = ClientKeyEntry(name: "batch", secret: .sha256(ClientKeyEntry.sha256Hex(of: "sk-batch")))

    func testSecretDigestIsTheSameForPlainAndHashedForms() {
        let hashed = ClientKeyEntry(name: "web", secret: .sha256(ClientKeyEntry.sha256Hex(of: "sk-local-web-example").uppercased()))
        XCTAssertEqual(web.secretDigest?.count, 32)
        XCTAssertEqual(web.secretDigest, hashed.secretDigest)
        XCTAssertEqual(web.keyID, "web")
    }

    func testMalformedHashedSecretsHaveNoDigest() {
        let sixtyFourNonHex = String(repeating: "g", count: 64)
        for text in ["", "abcd", sixtyFourNonHex, String(repeating: "a", count: 63), String(repeating: "a", count: 65)] {
            XCTAssertNil(ClientKeyEntry(name: "x", secret: .sha256(text)).secretDigest, text)
        }
    }

    func testLimitsWrittenUnderAHexIDMoveToTheKeyName() {
        let fast = RateLimit(requestsPerMinute: 1000)
        let slow = RateLimit(requestsPerMinute: 10)
        let limits = LimitSettings(keys: [batch.hashedKeyID: slow, "web": fast, web.hashedKeyID: slow])
        let resolved = limits.resolvingKeyIDs(of: [web, batch])
        XCTAssertEqual(resolved.limit(for: "batch"), slow)
        XCTAssertEqual(resolved.limit(for: "web"), fast, "an entry under the name wins")
        XCTAssertEqual(resolved.keys.count, 2)
        XCTAssertEqual(limits.resolvingKeyIDs(of: nil), limits, "pass-through keeps hex ids as they are")
    }

    func testUnreachableLimitKeysAreReported() {
        let limits = LimitSettings(keys: [
            "web": RateLimit(), batch.hashedKeyID: RateLimit(), "typo": RateLimit(), "0123456789ab": RateLimit(), "default": RateLimit(),
        ])
        XCTAssertEqual(limits.unreachableKeyIDs(given: [web, batch]), ["0123456789ab", "default", "typo"])
        XCTAssertEqual(limits.unreachableKeyIDs(given: nil), ["typo", "web"])
    }
}
