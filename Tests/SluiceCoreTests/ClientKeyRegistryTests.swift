import SluiceCore
import XCTest

final class ClientKeyRegistryTests: XCTestCase {
    private let webKey = "sk-local-web-example"
    private let batchKey = "sk-local-batch-secret"

    private var keysMode: ClientKeyRegistry {
        ClientKeyRegistry([
            ClientKeyEntry(name: "web", secret: .plain(webKey)),
            ClientKeyEntry(name: "batch", secret: .sha256(ClientKeyEntry.sha256Hex(of: batchKey).uppercased())),
        ])
    }

    func testKeyIDIsTheFirstTwelveHexDigitsOfTheSHA256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        XCTAssertEqual(KeyID.forSecret("abc"), "ba7816bf8f01")
        XCTAssertTrue(KeyID.isHexID("ba7816bf8f01"))
        XCTAssertFalse(KeyID.isHexID("BA7816BF8F01"))
        XCTAssertFalse(KeyID.isHexID("ba7816bf8f0"))
        XCTAssertFalse(KeyID.isHexID("ba7816bf8f01a"))
        XCTAssertFalse(KeyID.isHexID("web"))
    }

    func testPassThroughForwardsTheBearerUnderItsKeyID() {
        let registry = ClientKeyRegistry(nil)
        XCTAssertTrue(registry.isPassThrough)
        for header in ["Bearer sk-abc", "bearer sk-abc", "BEARER   sk-abc  ", "\tBearer\tsk-abc"] {
            XCTAssertEqual(registry.authenticate(authorization: header),
                           .passThrough(keyID: KeyID.forSecret("sk-abc"), forwardBearer: "sk-abc"), header)
        }
    }

    func testPassThroughWithoutABearerUsesTheDefaultKeyID() {
        let registry = ClientKeyRegistry(nil)
        for header in [nil, "", "   "] as [String?] {
            XCTAssertEqual(registry.authenticate(authorization: header), .passThrough(keyID: "default", forwardBearer: nil))
        }
    }

    func testAMalformedAuthorizationIsRejectedInBothModes() {
        for registry in [ClientKeyRegistry(nil), keysMode] {
            for header in ["Basic \(webKey)", "Bearer", "Bearer   ", "Bearer \(webKey) extra", webKey, "Bearer\(webKey)"] {
                guard case .rejected(let reason) = registry.authenticate(authorization: header) else {
                    return XCTFail("accepted \(header)")
                }
                XCTAssertFalse(reason.contains(webKey), reason)
            }
        }
    }

    func testKeysModeAcceptsPlainAndHashedEntriesUnderTheirNames() {
        XCTAssertFalse(keysMode.isPassThrough)
        XCTAssertEqual(keysMode.authenticate(authorization: "Bearer \(webKey)"), .accepted(keyID: "web"))
        XCTAssertEqual(keysMode.authenticate(authorization: "bearer \(batchKey)"), .accepted(keyID: "batch"))
        XCTAssertEqual(keysMode.authenticate(authorization: "Bearer \(batchKey)").keyID, "batch")
    }

    func testKeysModeRejectsUnknownAndMissingKeysWithoutEchoingThem() {
        let cases: [String?] = [nil, "", "Bearer sk-unknown-key-123", "Bearer \(webKey)x", "Bearer \(webKey.uppercased())"]
        for header in cases {
            let result = keysMode.authenticate(authorization: header)
            guard case .rejected(let reason) = result else {
                return XCTFail("accepted \(header ?? "nil")")
            }
            XCTAssertNil(result.keyID)
            XCTAssertFalse(reason.isEmpty)
            XCTAssertFalse(reason.contains("sk-"), reason)
        }
    }

    func testPresentingAKeysDigestIsNotPresentingTheKey() {
        let digest = ClientKeyEntry.sha256Hex(of: batchKey)
        XCTAssertNotEqual(keysMode.authenticate(authorization: "Bearer \(digest)"), .accepted(keyID: "batch"))
    }

    func testAMalformedHashedEntryMatchesNothing() {
        let registry = ClientKeyRegistry([
            ClientKeyEntry(name: "broken", secret: .sha256("not-hex")),
            ClientKeyEntry(name: "short", secret: .sha256("abcd")),
            ClientKeyEntry(name: "web", secret: .plain(webKey)),
        ])
        XCTAssertEqual(registry.authenticate(authorization: "Bearer not-hex").keyID, nil)
        XCTAssertEqual(registry.authenticate(authorization: "Bearer \(webKey)"), .accepted(keyID: "web"))
    }

    func testAnEmptyKeyListAcceptsNobody() {
        let registry = ClientKeyRegistry([])
        XCTAssertFalse(registry.isPassThrough)
        XCTAssertNil(registry.authenticate(authorization: "Bearer \(webKey)").keyID)
        XCTAssertNil(registry.authenticate(authorization: nil).keyID)
    }
}
