import SluiceCore
import XCTest

final class ConfigUpstreamIdentityTests: XCTestCase {
    private let apiKey = "vck_1234567890abcdefghijWXYZ"
    private let oidcToken = "eyJhbGciOiJSUzI1NiJ9.payload.signature-tail9"
    private let fileKey = "vck_fromthecredentialfileQRST"

    private func credential(
        _ environment: [String: String], file: String? = nil
    ) throws -> UpstreamCredential? {
        try UpstreamCredential.resolve(environment: environment) { path in
            XCTAssertEqual(path, "/run/credentials/sluice.service/vercel_ai_gateway_api_key")
            return file
        }
    }

    private let credentialsDirectory = ["CREDENTIALS_DIRECTORY": "/run/credentials/sluice.service"]

    func testTheAPIKeyVariableComesFirst() throws {
        let environment = credentialsDirectory.merging(["VERCEL_AI_GATEWAY_API_KEY": apiKey, "VERCEL_OIDC_TOKEN": oidcToken]) { $1 }
        let found = try credential(environment, file: fileKey)
        XCTAssertEqual(found?.secret, apiKey)
        XCTAssertEqual(found?.source, .apiKeyVariable)
    }

    func testThenTheOIDCToken() throws {
        let environment = credentialsDirectory.merging(["VERCEL_OIDC_TOKEN": oidcToken, "VERCEL_AI_GATEWAY_API_KEY": ""]) { $1 }
        let found = try credential(environment, file: fileKey)
        XCTAssertEqual(found?.secret, oidcToken)
        XCTAssertEqual(found?.source, .oidcTokenVariable)
    }

    func testThenTheSystemdCredentialFileTrimmed() throws {
        let found = try credential(credentialsDirectory, file: "  \(fileKey)\n")
        XCTAssertEqual(found?.secret, fileKey)
        XCTAssertEqual(found?.source, .credentialFile(path: "/run/credentials/sluice.service/vercel_ai_gateway_api_key"))
    }

    func testNoneAnywhereIsNoCredential() throws {
        XCTAssertNil(try credential([:]))
        XCTAssertNil(try credential(credentialsDirectory, file: nil), "no such file")
        XCTAssertNil(try credential(credentialsDirectory, file: " \n"), "an empty file")
        XCTAssertNil(try credential(["VERCEL_AI_GATEWAY_API_KEY": "  "]))
    }

    func testAnUnreadableCredentialFileIsAnErrorNamingIt() {
        struct Denied: Error, CustomStringConvertible { var description: String { "Permission denied" } }
        let message = assertConfigError {
            try UpstreamCredential.resolve(environment: ["CREDENTIALS_DIRECTORY": "/run/c"]) { _ in throw Denied() }
        }
        XCTAssertEqual(message, "credential file /run/c/vercel_ai_gateway_api_key: cannot read it (Permission denied)")
    }

    func testMaskingShowsTheTypePrefixAndAtMostFourLastCharacters() throws {
        let found = try XCTUnwrap(try credential(["VERCEL_AI_GATEWAY_API_KEY": apiKey]))
        XCTAssertEqual(found.maskedSecret, "vck_…WXYZ")
        XCTAssertEqual(found.masked, "vck_…WXYZ (from VERCEL_AI_GATEWAY_API_KEY)")
        let token = try XCTUnwrap(try credential(["VERCEL_OIDC_TOKEN": oidcToken]))
        XCTAssertEqual(token.masked, "…ail9 (from VERCEL_OIDC_TOKEN)")
    }

    func testAShortSecretShowsNothingOfItself() {
        let short = UpstreamCredential(secret: "vck_abcdefgh", source: .apiKeyVariable)
        XCTAssertEqual(short.maskedSecret, "…")
        XCTAssertFalse(short.masked.contains("efgh"))
    }

    func testTheSecretNeverAppearsWhenTheCredentialIsPrinted() {
        for secret in [apiKey, oidcToken, "short", "vck_" + String(repeating: "s", count: 40)] {
            let credential = UpstreamCredential(secret: secret, source: .credentialFile(path: "/run/c/key"))
            var dumped = ""
            dump(credential, to: &dumped)
            for text in [credential.masked, "\(credential)", String(reflecting: credential), dumped] {
                XCTAssertFalse(text.contains(secret), text)
                if secret.count >= 16 {
                    XCTAssertFalse(text.contains(String(secret.dropLast(4).suffix(8))), "no more than the last 4 characters: \(text)")
                }
            }
        }
    }

    func testAttributionHeaders() throws {
        let attribution = try UpstreamAttribution.resolve(environment: ["VERCEL_SITE_URL": "https://example.com", "VERCEL_APP_NAME": "My App"])
        XCTAssertEqual(attribution.headers.map(\.name), ["http-referer", "x-title"])
        XCTAssertEqual(attribution.headers.map(\.value), ["https://example.com", "My App"])
        XCTAssertTrue(try UpstreamAttribution.resolve(environment: ["VERCEL_APP_NAME": ""]).headers.isEmpty)
    }

    func testAttributionThatWouldBreakAHeaderIsAnError() {
        assertContains(
            assertConfigError { try UpstreamAttribution.resolve(environment: ["VERCEL_APP_NAME": "a\r\nx-evil: 1"]) },
            "environment variable VERCEL_APP_NAME: contains a control character"
        )
    }

    func testIdentityCombinesBoth() throws {
        let identity = try UpstreamIdentity.resolve(
            environment: ["VERCEL_AI_GATEWAY_API_KEY": apiKey, "VERCEL_APP_NAME": "batch"]
        ) { _ in nil }
        XCTAssertEqual(identity.credential?.source, .apiKeyVariable)
        XCTAssertEqual(identity.attribution.appName, "batch")
    }
}
