import NIOHTTP1
import XCTest
@testable import SluiceServer

final class ProxyRouteTests: XCTestCase {
    private func route(_ path: String) -> ProxyRoute? {
        ProxyRoute(path: path[...])
    }

    func testNamesChatCompletionsWithAndWithoutV1() {
        XCTAssertEqual(route("/v1/chat/completions"), .chatCompletions)
        XCTAssertEqual(route("/chat/completions"), .chatCompletions)
    }

    func testNamesEmbeddingsAndModels() {
        XCTAssertEqual(route("/v1/embeddings"), .embeddings)
        XCTAssertEqual(route("/embeddings"), .embeddings)
        XCTAssertEqual(route("/v1/models"), .models)
        XCTAssertEqual(route("/models"), .models)
    }

    func testAnyOtherV1PathIsOther() {
        XCTAssertEqual(route("/v1/anything"), .other("/anything"))
        XCTAssertEqual(route("/v1/models/openai/gpt-5"), .other("/models/openai/gpt-5"))
        XCTAssertEqual(route("/v1/chat/completions/"), .other("/chat/completions/"))
        XCTAssertEqual(route("/v1/generation"), .other("/generation"))
    }

    func testServesNothingElsewhere() {
        for path in ["/v1/", "/v1", "/foo", "/", "", "/v2/models", "/V1/models", "/responses", "/chat/completions/", "v1/models"] {
            XCTAssertNil(route(path), path)
        }
    }

    func testUpstreamPathAndRecordedName() {
        XCTAssertEqual(route("/chat/completions")?.upstreamPath, "/chat/completions")
        XCTAssertEqual(route("/chat/completions")?.recordedName, "/v1/chat/completions")
        XCTAssertEqual(route("/embeddings")?.recordedName, "/v1/embeddings")
        XCTAssertEqual(route("/v1/models")?.upstreamPath, "/models")
        XCTAssertEqual(route("/v1/credits")?.upstreamPath, "/credits")
        XCTAssertEqual(route("/v1/credits")?.recordedName, "/v1/credits")
    }

    func testMetricLabelsAreABoundedSet() {
        XCTAssertEqual(route("/v1/credits")?.metricLabel, "other")
        XCTAssertEqual(route("/v1/generation")?.metricLabel, "other")
        XCTAssertEqual(route("/chat/completions")?.metricLabel, "/v1/chat/completions")
    }

    func testOnlyChatAndEmbeddingsNeedJSONAndMayBeCached() {
        XCTAssertEqual([ProxyRoute.chatCompletions, .embeddings, .models, .other("/x")].map(\.isCacheable), [true, true, false, false])
        XCTAssertEqual([ProxyRoute.chatCompletions, .embeddings, .models, .other("/x")].map(\.requiresJSONBody), [true, true, false, false])
    }

    func testAcceptedMethods() {
        XCTAssertTrue(ProxyRoute.chatCompletions.accepts(.POST))
        XCTAssertFalse(ProxyRoute.chatCompletions.accepts(.GET))
        XCTAssertTrue(ProxyRoute.embeddings.accepts(.POST))
        XCTAssertFalse(ProxyRoute.embeddings.accepts(.PUT))
        XCTAssertTrue(ProxyRoute.models.accepts(.GET))
        XCTAssertFalse(ProxyRoute.models.accepts(.POST))
        for method in [HTTPMethod.GET, .POST, .PUT, .DELETE, .PATCH] {
            XCTAssertTrue(ProxyRoute.other("/responses").accepts(method), "\(method)")
        }
    }
}
