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
        XCTAssertEqual(route("/v1/messages/count_tokens"), .other("/messages/count_tokens"))
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

    func testTheModelAPIsNeedJSONAndMayBeCached() {
        let routes: [ProxyRoute] = [.chatCompletions, .embeddings, .responses, .completions, .messages, .models, .other("/x")]
        XCTAssertEqual(routes.map(\.isCacheable), [true, true, true, true, true, false, false])
        XCTAssertEqual(routes.map(\.requiresJSONBody), [true, true, true, true, true, false, false])
    }

    func testNamesResponsesCompletionsAndMessages() {
        XCTAssertEqual(route("/v1/responses"), .responses)
        XCTAssertEqual(route("/v1/completions"), .completions)
        XCTAssertEqual(route("/v1/messages"), .messages)
        XCTAssertEqual(route("/v1/messages")?.upstreamPath, "/messages")
        XCTAssertEqual(route("/v1/responses/resp_123"), .other("/responses/resp_123"), "retrieving a response is forwarded")
    }

    func testAcceptedMethods() {
        XCTAssertTrue(ProxyRoute.chatCompletions.accepts(.POST))
        XCTAssertFalse(ProxyRoute.chatCompletions.accepts(.GET))
        XCTAssertTrue(ProxyRoute.embeddings.accepts(.POST))
        XCTAssertFalse(ProxyRoute.embeddings.accepts(.PUT))
        for route in [ProxyRoute.responses, .completions, .messages] {
            XCTAssertTrue(route.accepts(.POST))
            XCTAssertFalse(route.accepts(.GET))
        }
        XCTAssertTrue(ProxyRoute.models.accepts(.GET))
        XCTAssertFalse(ProxyRoute.models.accepts(.POST))
        for method in [HTTPMethod.GET, .POST, .PUT, .DELETE, .PATCH] {
            XCTAssertTrue(ProxyRoute.other("/credits").accepts(method), "\(method)")
        }
    }
}
