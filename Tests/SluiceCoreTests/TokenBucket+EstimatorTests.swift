import SluiceCore
import XCTest

final class TokenEstimatorTests: XCTestCase {
    func testPromptIsOneTokenPerFourBytesRoundedUp() {
        XCTAssertEqual(TokenEstimator.estimate(body: [], maxTokens: nil), 0)
        XCTAssertEqual(TokenEstimator.estimate(body: [UInt8](repeating: 0x61, count: 1), maxTokens: nil), 1)
        XCTAssertEqual(TokenEstimator.estimate(body: [UInt8](repeating: 0x61, count: 8), maxTokens: nil), 2)
        XCTAssertEqual(TokenEstimator.estimate(body: [UInt8](repeating: 0x61, count: 9), maxTokens: nil), 3)
    }

    func testMaxTokensIsAddedWhenGiven() {
        let body = Array(#"{"model":"openai/gpt-5","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let prompt = (body.count + 3) / 4
        XCTAssertEqual(TokenEstimator.estimate(body: body, maxTokens: 256), prompt + 256)
        XCTAssertEqual(TokenEstimator.estimate(body: body, maxTokens: -50), prompt, "a negative max_tokens adds nothing")
    }

    func testAHugeMaxTokensSaturatesInsteadOfOverflowing() {
        XCTAssertEqual(TokenEstimator.estimate(body: [1, 2, 3, 4, 5], maxTokens: .max), .max)
    }
}
