import Foundation
import XCTest

/// `keys` in the config: only listed client keys get in, the daemon's own
/// credential goes upstream, and no secret is ever stored or logged
/// (CONTRACT, "Clients and keys").
final class ClientKeyTests: DaemonTestCase {
    static let webKey = "sk-local-web-example"
    static let batchKey = "sk-batch-secret"
    /// `printf %s sk-batch-secret | sha256sum`
    static let batchDigest = "c4db29d2f62811ccdcb3ef7baee49cefb4a1f99a934ad41abe989c2a02d6e2d5"
    static let keysConfig = """
        keys:
          - {name: web, key: \(webKey)}
          - {name: batch, sha256: \(batchDigest)}
        """

    func testUnknownOrMissingKeysAreRefusedOverBothListeners() async throws {
        let daemon = try await startDaemon(launch(config: writeConfig(Self.keysConfig)))
        for transport in Transport.allCases {
            let endpoint = try daemon.endpoint(transport)
            let unknown = try await http.post(chatPath, to: endpoint, headers: bearer("sk-not-listed"), body: OpenAIRequests.chat("x"))
            let missing = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("x"))
            let hashAsKey = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchDigest), body: OpenAIRequests.chat("x"))
            let notBearer = try await http.post(chatPath, to: endpoint, headers: [("authorization", "Basic \(Self.webKey)")], body: OpenAIRequests.chat("x"))

            XCTAssertOpenAIError(unknown, status: 401, "unknown key over \(transport)")
            XCTAssertOpenAIError(missing, status: 401, "no key over \(transport)")
            XCTAssertOpenAIError(hashAsKey, status: 401, "the digest itself is not the key")
            XCTAssertOpenAIError(notBearer, status: 401, "a key outside Bearer")
            XCTAssertEqual((unknown.json?["error"] as? [String: Any])?["type"] as? String, "authentication_error")
            XCTAssertFalse(unknown.text.contains("sk-not-listed"), "the answer does not echo the key")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 0, "refused requests never reach upstream")
    }

    func testListedKeysAreAcceptedAndUpstreamGetsTheDaemonsCredential() async throws {
        let daemon = try await startDaemon(launch(config: writeConfig(Self.keysConfig)))

        let web = try await http.post(chatPath, to: daemon.endpoint(.tcp), headers: bearer(Self.webKey), body: OpenAIRequests.chat("from web"))
        let batch = try await http.post(chatPath, to: daemon.endpoint(.unixSocket), headers: bearer(Self.batchKey), body: OpenAIRequests.chat("from batch"))

        XCTAssertEqual(web.status, 200, web.text)
        XCTAssertEqual(batch.status, 200, batch.text)
        XCTAssertEqual(
            gateway.recorder.requests.map { $0.header("authorization") },
            Array(repeating: "Bearer \(DaemonLaunch.upstreamKey)", count: 2))
    }

    func testKeysHaveSeparateCachesUnlessShared() async throws {
        let daemon = try await startDaemon(launch(config: writeConfig(Self.keysConfig)))
        let endpoint = try daemon.endpoint(.tcp)
        let body = OpenAIRequests.chat("same question")

        let web = try await http.post(chatPath, to: endpoint, headers: bearer(Self.webKey), body: body)
        let batch = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: body)

        XCTAssertEqual([web.header("x-sluice-cache"), batch.header("x-sluice-cache")], ["miss", "miss"])
    }

    func testUsageRowsCarryKeyNamesAndNoSecretIsStoredOrLogged() async throws {
        let daemon = try await startDaemon(launch(config: writeConfig(Self.keysConfig)))
        let endpoint = try daemon.endpoint(.tcp)
        _ = try await http.post(chatPath, to: endpoint, headers: bearer(Self.webKey), body: OpenAIRequests.chat("w"))
        _ = try await http.post(chatPath, to: endpoint, headers: bearer(Self.webKey), body: OpenAIRequests.chat("w"))
        _ = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        _ = try await http.stream(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("s", stream: true))
        _ = try await http.post(chatPath, to: endpoint, headers: bearer("sk-intruder-secret"), body: OpenAIRequests.chat("i"))

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)

        let database = DatabaseFile(path: daemon.databasePath)
        let rows = try database.strings("SELECT key_id || ' ' || status || ' ' || cache_outcome FROM usage ORDER BY id")
        XCTAssertEqual(rows, ["web 200 miss", "web 200 hit", "batch 200 miss", "batch 200 miss", "- 401 none"])
        let cacheOwners = try database.strings("SELECT DISTINCT key_id FROM cache_entries ORDER BY key_id")
        XCTAssertEqual(cacheOwners, ["batch", "web"])

        let secrets = [Self.webKey, Self.batchKey, "sk-intruder-secret", DaemonLaunch.upstreamKey]
        let stored = database.rawBytes
        XCTAssertGreaterThan(stored.count, 0)
        for secret in secrets {
            XCTAssertNil(stored.range(of: Data(secret.utf8)), "\(secret) is in the database files")
            XCTAssertFalse(daemon.logs.contains(secret), "\(secret) is in the daemon's log output")
        }
        for keyID in ["key_id=web", "key_id=batch"] {
            XCTAssertTrue(daemon.logs.contains(keyID), "requests are logged by key id: \(keyID)")
        }
    }

    func testSIGHUPRemovingAKeyRevokesIt() async throws {
        let config = try writeConfig(Self.keysConfig)
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        let before = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        XCTAssertEqual(before.status, 200)

        try await reload(daemon, config: config, with: "keys:\n  - {name: web, key: \(Self.webKey)}\n")
        let batch = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        let web = try await http.post(chatPath, to: endpoint, headers: bearer(Self.webKey), body: OpenAIRequests.chat("w"))

        XCTAssertOpenAIError(batch, status: 401, "a removed key, even for a cached request")
        XCTAssertEqual(web.status, 200)
    }

    func testSIGHUPAddingAKeyAdmitsIt() async throws {
        let config = try writeConfig("keys:\n  - {name: web, key: \(Self.webKey)}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        let before = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        XCTAssertOpenAIError(before, status: 401)

        try await reload(daemon, config: config, with: Self.keysConfig)
        let after = try await http.post(chatPath, to: endpoint, headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        XCTAssertEqual(after.status, 200)
    }

    func testARefusedReloadDoesNotLogTheSecretsOfTheBadFile() async throws {
        let config = try writeConfig(Self.keysConfig)
        let daemon = try await startDaemon(launch(config: config))
        let newSecret = "sk-fresh-secret-never-logged"
        let badFiles = [
            "keys:\n  - {name: fresh, key: \(newSecret), sha256: \(Self.batchDigest)}\n",
            "keys:\n  - {name: fresh, key: [\(newSecret)]}\n",
            "keys:\n  - {name: fresh, sha256: \(newSecret)}\n",
            "keys:\n  - {name: fresh, key: \(newSecret), note: 1}\n",
            "keys:\n  - {name: fresh, key: \"\(newSecret)\n",
        ]
        for bad in badFiles {
            try await reload(daemon, config: config, with: bad, expecting: .refused)
        }

        let batch = try await http.post(chatPath, to: daemon.endpoint(.tcp), headers: bearer(Self.batchKey), body: OpenAIRequests.chat("b"))
        XCTAssertEqual(batch.status, 200, "the old keys stay")
        XCTAssertFalse(daemon.logs.contains(newSecret), "the refusal names the problem, not the secret:\n\(daemon.standardError.suffix(1500))")
        XCTAssertFalse(daemon.logs.contains(Self.webKey))
    }
}
