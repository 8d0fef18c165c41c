import SluiceCore
import XCTest

final class JSONUsageScannerTests: XCTestCase {
    // MARK: Helpers

    private func scan(_ body: [UInt8]) -> TokenUsage? {
        var scanner = JSONUsageScanner()
        scanner.consume(body)
        return scanner.usage
    }

    private func scan(_ body: String) -> TokenUsage? {
        scan(Array(body.utf8))
    }

    private func scan(_ body: [UInt8], chunkSize: Int) -> TokenUsage? {
        var scanner = JSONUsageScanner()
        var start = 0
        while start < body.count {
            let end = min(start + chunkSize, body.count)
            scanner.consume(body[start..<end])
            start = end
        }
        return scanner.usage
    }

    /// What the tree parser gives, the behaviour the scanner must match.
    private func reference(_ body: [UInt8]) -> TokenUsage? {
        guard let document = try? JSONParser.parse(body) else { return nil }
        return TokenUsage(usageObject: document["usage"])
    }

    private static let chatUsageAtEnd = #"""
        {"id":"chatcmpl-AB12","object":"chat.completion","created":1730000000,"model":"gpt-4o-mini",\#
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hello! {\"usage\": {\"prompt_tokens\": 999}} \\\" done","refusal":null},\#
        "logprobs":null,"finish_reason":"stop"}],\#
        "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,\#
        "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},\#
        "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},\#
        "service_tier":"default","system_fingerprint":"fp_0ba0d124f1"}
        """#

    private static let chatUsageFirst = #"""
        {"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10},"id":"c2","choices":[{"index":0,\#
        "message":{"role":"assistant","content":"usage: \"usage\":{\"total_tokens\":1}"},"finish_reason":"stop"}]}
        """#

    private static let vercelNumericCost = #"""
        {"id":"gen-1","model":"openai/gpt-4o","choices":[{"message":{"role":"assistant","content":"ok"}}],\#
        "usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"cost":0.00125,"prompt_tokens_details":{"cached_tokens":0}}}
        """#

    private static let vercelStringCost = #"""
        {"id":"gen-2","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cost":"0.000042"}}
        """#

    private static let responsesAPI = #"""
        {"id":"resp_67cb","object":"response","created_at":1741476542,"status":"completed","model":"gpt-4.1",\#
        "output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant",\#
        "content":[{"type":"output_text","text":"In a peaceful grove \u2014 \ud83c\udf33 \"quoted\" \\ back\/slash","annotations":[]}]}],\#
        "reasoning":{"effort":null,"summary":null},"temperature":1.0,"top_p":1.0,\#
        "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,\#
        "output_tokens_details":{"reasoning_tokens":0},"total_tokens":123},"user":null,"metadata":{}}
        """#

    private static let anthropicMessages = #"""
        {"id":"msg_013Zva","type":"message","role":"assistant","model":"claude-sonnet-4-5",\#
        "content":[{"type":"text","text":"Hi — I’m Claude. Ünïcödé ✓ 𝄞"}],"stop_reason":"end_turn","stop_sequence":null,\#
        "usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":503}}
        """#

    private static let nestedUsageOnly = #"""
        {"id":"c3","choices":[{"index":0,"usage":{"prompt_tokens":99,"total_tokens":99},"message":{"content":"x"}}],\#
        "meta":{"usage":{"prompt_tokens":98}},"list":[{"usage":{"total_tokens":97}}]}
        """#

    private static let nestedAndTopLevel = #"""
        {"choices":[{"usage":{"prompt_tokens":99,"total_tokens":99}}],"usage":{"prompt_tokens":5,"completion_tokens":7}}
        """#

    private static func embeddings(count: Int) -> String {
        var floats: [String] = []
        floats.reserveCapacity(count)
        var seed: UInt64 = 42
        for index in 0..<count {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let digits = String((seed >> 40) % 10_000_000)
            let value = (seed & 1 == 0 ? "-0." : "0.") + String(repeating: "0", count: 7 - digits.count) + digits
            floats.append(index % 7 == 0 ? value + "e-2" : value)
        }
        return #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":["#
            + floats.joined(separator: ",")
            + #"]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#
    }

    private static var samples: [String] {
        [
            chatUsageAtEnd, chatUsageFirst, vercelNumericCost, vercelStringCost, responsesAPI,
            anthropicMessages, nestedUsageOnly, nestedAndTopLevel, embeddings(count: 48),
            #"{"usage":null}"#, #"{"usage":7}"#, #"{"usage":"x"}"#, #"{"usage":[1,{"a":2}]}"#, #"{"usage":{}}"#,
            #"{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}"#,
            #"{"usage":{"prompt_tokens":1},"usage":false}"#,
            #"{"us\u0061ge":{"prompt_tokens":3}}"#,
            " \n\t{ \"usage\" : { \"prompt_tokens\" : 4 , \"total_tokens\" : 4 } } \r\n",
            #"[{"usage":{"prompt_tokens":1}}]"#, "<html><body>502 Bad Gateway</body></html>",
        ]
    }

    // MARK: Real answer shapes

    func testOpenAIChatCompletionWithUsageAtTheEnd() {
        XCTAssertEqual(scan(Self.chatUsageAtEnd), TokenUsage(promptTokens: 19, completionTokens: 10, totalTokens: 29))
    }

    func testOpenAIChatCompletionWithUsageFirst() {
        XCTAssertEqual(scan(Self.chatUsageFirst), TokenUsage(promptTokens: 7, completionTokens: 3, totalTokens: 10))
    }

    func testVercelGatewayCostAsNumberAndAsDecimalString() {
        XCTAssertEqual(
            scan(Self.vercelNumericCost),
            TokenUsage(promptTokens: 12, completionTokens: 30, totalTokens: 42, cost: 0.00125))
        XCTAssertEqual(
            scan(Self.vercelStringCost),
            TokenUsage(promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: 0.000042))
    }

    func testEmbeddingsAnswerWithALargeDataArray() {
        XCTAssertEqual(
            scan(Self.embeddings(count: 3072)), TokenUsage(promptTokens: 8, completionTokens: 0, totalTokens: 8))
    }

    func testResponsesAPIAnswer() {
        XCTAssertEqual(scan(Self.responsesAPI), TokenUsage(promptTokens: 36, completionTokens: 87, totalTokens: 123))
    }

    func testAnthropicMessagesAnswer() {
        XCTAssertEqual(
            scan(Self.anthropicMessages), TokenUsage(promptTokens: 2095, completionTokens: 503, totalTokens: 2598))
    }

    // MARK: Tricky content

    func testUsageTextInsideStringsIsNotAMember() {
        XCTAssertNil(scan(#"{"content":"\"usage\":{\"prompt_tokens\":1}","x":"\\","y":"{[\"usage\"]}"}"#))
        XCTAssertEqual(
            scan(#"{"a":"\\\"usage\\\":{","usage":{"prompt_tokens":2,"completion_tokens":1},"b":"}\"}"}"#),
            TokenUsage(promptTokens: 2, completionTokens: 1, totalTokens: 3))
    }

    func testNestedUsageIsIgnored() {
        XCTAssertNil(scan(Self.nestedUsageOnly))
        XCTAssertEqual(scan(Self.nestedAndTopLevel), TokenUsage(promptTokens: 5, completionTokens: 7, totalTokens: 12))
    }

    func testKeysMatchAfterUnescapingAndOnlyExactly() {
        XCTAssertEqual(scan(#"{"us\u0061ge":{"prompt_tokens":3}}"#)?.promptTokens, 3)
        XCTAssertEqual(scan(#"{"\u0075sage":{"prompt_tokens":3}}"#)?.promptTokens, 3)
        for key in ["usag", "usages", "Usage", "usage ", " usage", "usage\\u0000", "us\\u00e1ge", "\\ud83d\\ude00usage"] {
            XCTAssertNil(scan(#"{"\#(key)":{"prompt_tokens":3}}"#), key)
        }
    }

    func testTheLastTopLevelUsageWinsLikeTheParser() {
        XCTAssertEqual(scan(#"{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}"#)?.promptTokens, 2)
        XCTAssertNil(scan(#"{"usage":{"prompt_tokens":1},"usage":null}"#))
        XCTAssertEqual(scan(#"{"usage":null,"usage":{"prompt_tokens":2}}"#)?.promptTokens, 2)
    }

    func testNonObjectValuesOfUsageGiveNil() {
        for value in ["null", "7", "-1.5e3", "true", "\"x\"", "[1,2]", "{}", #"{"cost":0.1}"#] {
            XCTAssertNil(scan(#"{"usage":\#(value)}"#), value)
        }
    }

    func testBodiesThatAreNotJSONObjectsGiveNil() {
        for body in [
            "", " ", "[]", #"[{"usage":{"prompt_tokens":1}}]"#, "null", "42", #""usage""#,
            "<html><body>502 Bad Gateway</body></html>", "{", "}", "{]", #"{"usage":{"prompt_tokens":1}}}"#,
            #"{"usage":{"prompt_tokens":1}} x"#, #"{"usage":{"prompt_tokens":01}}"#, #"{"usage":{"prompt_tokens":1,}}"#,
            #"{"a":tru,"usage":{"prompt_tokens":1}}"#, #"{"a":"\x","usage":{"prompt_tokens":1}}"#,
            #"{"a":"\ud800","usage":{"prompt_tokens":1}}"#, #"{"a":"\udc00","usage":{"prompt_tokens":1}}"#,
            "{\"a\":\"tab\there\",\"usage\":{\"prompt_tokens\":1}}",
        ] {
            XCTAssertNil(scan(body), body)
        }
        XCTAssertNil(scan([0xFF, 0xFE]))
        XCTAssertNil(scan(Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#"","usage":{"prompt_tokens":1}}"#.utf8)))
        XCTAssertNil(scan(Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","usage":{"prompt_tokens":1}}"#.utf8)))
    }

    func testTruncatedBodiesGiveNil() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            guard scan(bytes) != nil else { continue }
            // Every prefix that stops before the closing brace is incomplete.
            let closing = bytes.lastIndex(of: UInt8(ascii: "}"))!
            for length in 0...closing {
                XCTAssertNil(scan(Array(bytes[..<length])), "\(sample) cut at \(length)")
            }
        }
    }

    func testNoUsageUntilTheWholeBodyHasBeenSeen() {
        var scanner = JSONUsageScanner()
        scanner.consume(Array(#"{"usage":{"prompt_tokens":1}"#.utf8))
        XCTAssertNil(scanner.usage)
        scanner.consume(Array("}\n".utf8))
        XCTAssertEqual(scanner.usage?.promptTokens, 1)
        scanner.consume(Array("x".utf8))
        XCTAssertNil(scanner.usage, "data after the object makes the body invalid")
    }

    func testDeepNestingDoesNotRecurseAndFollowsTheParserLimit() {
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000)
        XCTAssertNil(scan(deep + #"],"usage":{"prompt_tokens":1}}"#))
        // At exactly the parser's limit both agree.
        for levels in [JSONParser.maximumDepth - 2, JSONParser.maximumDepth - 1, JSONParser.maximumDepth] {
            let body = Array(
                (#"{"usage":{"prompt_tokens":1},"a":"# + String(repeating: "[", count: levels)
                    + "0" + String(repeating: "]", count: levels) + "}").utf8)
            XCTAssertEqual(scan(body), reference(body), "\(levels) levels")
        }
    }

    // MARK: Chunking

    func testEveryTwoWaySplitAndOneByteChunksMatchTheWholeBody() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            let whole = scan(bytes)
            XCTAssertEqual(whole, reference(bytes), sample)
            XCTAssertEqual(scan(bytes, chunkSize: 1), whole, sample)
            XCTAssertEqual(scan(bytes, chunkSize: 3), whole, sample)
            for split in 0...bytes.count {
                var scanner = JSONUsageScanner()
                scanner.consume(bytes[..<split])
                scanner.consume(bytes[split...])
                XCTAssertEqual(scanner.usage, whole, "\(sample) split at \(split)")
            }
        }
    }

    func testAcceptsRawBuffersAndNonContiguousSequences() {
        let bytes = Array(Self.embeddings(count: 2000).utf8)
        XCTAssertGreaterThan(bytes.count, 3 * 4096)
        let expected = TokenUsage(promptTokens: 8, completionTokens: 0, totalTokens: 8)

        var raw = JSONUsageScanner()
        bytes.withUnsafeBytes { raw.consume($0) }
        XCTAssertEqual(raw.usage, expected)

        var lazy = JSONUsageScanner()
        lazy.consume(bytes.lazy.map { $0 })
        XCTAssertEqual(lazy.usage, expected)

        var empty = JSONUsageScanner()
        empty.consume(Array(bytes[..<100]))
        empty.consume([UInt8]())
        empty.consume(Array(bytes[100...]))
        XCTAssertEqual(empty.usage, expected)
    }

    // MARK: Size

    func testScansATwentyMegabyteEmbeddingsBody() {
        var body = Array(#"{"object":"list","data":["#.utf8)
        let row = Array(#"{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,1.5e-3,-0.0028842222]},"#.utf8)
        body.reserveCapacity(20_000_000 + row.count + 200)
        while body.count < 20_000_000 { body.append(contentsOf: row) }
        body.removeLast()  // the trailing comma
        body.append(contentsOf: #"],"model":"text-embedding-3-small","usage":{"prompt_tokens":8192,"total_tokens":8192}}"#.utf8)

        let expected = TokenUsage(promptTokens: 8192, completionTokens: 0, totalTokens: 8192)
        XCTAssertEqual(scan(body), expected)
        XCTAssertEqual(scan(body, chunkSize: 65_536 + 17), expected)
    }

    func testAUsageValueOverSixtyFourKibibytesIsGivenUp() {
        func body(padding: Int) -> [UInt8] {
            let head = #"{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2,"pad":""#
            let tail = #""},"z":1}"#
            return Array(head.utf8) + Array(repeating: UInt8(ascii: "a"), count: padding) + Array(tail.utf8)
        }
        let usageLength = #"{"prompt_tokens":1,"completion_tokens":2,"pad":""}"#.utf8.count
        let limit = JSONUsageScanner.maximumUsageBytes
        let fits = body(padding: limit - usageLength)
        let tooBig = body(padding: limit - usageLength + 1)
        XCTAssertEqual(scan(fits)?.totalTokens, 3)
        XCTAssertEqual(scan(fits, chunkSize: 1000)?.totalTokens, 3)
        XCTAssertNil(scan(tooBig))
        XCTAssertNil(scan(tooBig, chunkSize: 1000))
        XCTAssertNotNil(reference(tooBig), "only the size limit differs from the parser")
    }

    // MARK: Against the tree parser

    func testMatchesTheTreeParserOnMutatedAnswers() {
        var random = SplitMix64(seed: 0x5EED)
        let alphabet = Array(#"{}[]":,\ u0123456789.eE+-tfnrul"usage"xs"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
        let bases = Self.samples.map { Array($0.utf8) }
        for round in 0..<4000 {
            var bytes = bases[Int(random.next() % UInt64(bases.count))]
            for _ in 0..<(1 + Int(random.next() % 3)) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: bytes.remove(at: position)
                }
            }
            let expected = reference(bytes)
            XCTAssertEqual(scan(bytes), expected, "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            XCTAssertEqual(scan(bytes, chunkSize: 1 + round % 5), expected, "round \(round) in chunks")
        }
    }

    func testTokenUsageFromAResponseBodyUsesTheScanner() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            XCTAssertEqual(TokenUsage(responseBody: bytes), scan(bytes), sample)
        }
    }
}

/// A small deterministic generator, so failures reproduce.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
