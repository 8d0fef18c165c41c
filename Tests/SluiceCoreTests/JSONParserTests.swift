import SluiceCore
import XCTest

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    /// Asserts that `bytes` is refused, and where.
    private func assertRejects(
        _ bytes: [UInt8], atOffset offset: Int, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try JSONParser.parse(bytes), message, file: file, line: line) { error in
            guard let parseError = error as? JSONParseError else {
                return XCTFail("unexpected error type \(error)", file: file, line: line)
            }
            XCTAssertEqual(parseError.offset, offset, "\(parseError) \(message)", file: file, line: line)
            XCTAssertTrue(parseError.description.hasSuffix("at byte \(offset)"), file: file, line: line)
        }
    }

    private func assertRejects(
        _ text: String, atOffset offset: Int, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        assertRejects(Array(text.utf8), atOffset: offset, message, file: file, line: line)
    }

    // MARK: Valid documents

    func testParsesEveryJSONType() throws {
        let value = try parse(#"{"n":null,"t":true,"f":false,"i":42,"s":"text","a":[1,"two",[]],"o":{"k":{}}}"#)
        XCTAssertEqual(value, .object([
            JSONMember(name: "n", value: .null),
            JSONMember(name: "t", value: .bool(true)),
            JSONMember(name: "f", value: .bool(false)),
            JSONMember(name: "i", value: .number("42")),
            JSONMember(name: "s", value: .string("text")),
            JSONMember(name: "a", value: .array([.number("1"), .string("two"), .array([])])),
            JSONMember(name: "o", value: .object([JSONMember(name: "k", value: .object([]))])),
        ]))
    }

    func testParsesScalarsAtTopLevelWithSurroundingWhitespace() throws {
        XCTAssertEqual(try parse(" \t\r\nnull \n"), .null)
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("\"\""), .string(""))
        XCTAssertEqual(try parse("  7  "), .number("7"))
        XCTAssertEqual(try parse("[ 1 , 2 ]"), .array([.number("1"), .number("2")]))
        XCTAssertEqual(try parse("{ \"a\" : 1 }"), .object([JSONMember(name: "a", value: .number("1"))]))
    }

    func testKeepsNumbersExactlyAsWritten() throws {
        for literal in ["1.0", "1", "1e3", "1E+3", "1e-3", "-0", "0", "-0.0", "0.70", "-12.5e10",
                        "123456789012345678901234567890", "1.00000000000000000000001"] {
            XCTAssertEqual(try parse(literal), .number(literal), literal)
            XCTAssertEqual(try parse("[\(literal)]"), .array([.number(literal)]), literal)
        }
        XCTAssertNotEqual(try parse("1.0"), try parse("1"))
    }

    func testReadsNumbersAsIntegersAndDoubles() throws {
        XCTAssertEqual(try parse("12").intValue, 12)
        XCTAssertEqual(try parse("12.0").intValue, 12)
        XCTAssertEqual(try parse("1e3").intValue, 1000)
        XCTAssertEqual(try parse("-0").intValue, 0)
        XCTAssertNil(try parse("1.5").intValue)
        XCTAssertNil(try parse("1e300").intValue, "too large for an integer")
        XCTAssertEqual(try parse("0.25").doubleValue, 0.25)
        XCTAssertNil(try parse("\"12\"").intValue)
    }

    func testDecodesEveryEscape() throws {
        XCTAssertEqual(try parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(try parse(#""caf\u00e9 \u00C9 \u0000""#), .string("café É \u{0}"))
        XCTAssertEqual(try parse(#""plain then \n escaped""#), .string("plain then \n escaped"))
    }

    func testDecodesSurrogatePairs() throws {
        XCTAssertEqual(try parse(#""\uD83D\uDE00""#), .string("😀"))
        XCTAssertEqual(try parse(#""a\ud834\udd1eb""#), .string("a𝄞b"))
    }

    func testKeepsRawUTF8AndMemberOrderAndDuplicates() throws {
        let value = try parse(#"{"z":"héllo 😀","a":1,"z":2}"#)
        XCTAssertEqual(value, .object([
            JSONMember(name: "z", value: .string("héllo 😀")),
            JSONMember(name: "a", value: .number("1")),
            JSONMember(name: "z", value: .number("2")),
        ]))
        XCTAssertEqual(value["z"], .number("2"), "a repeated name reads as its last value")
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.array([])["z"])
    }

    func testKeepsCanonicallyEquivalentNamesApartWhenReading() throws {
        // "é" precomposed and decomposed are different JSON names.
        let value = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        XCTAssertEqual(value["\u{E9}"], .number("1"))
        XCTAssertEqual(value["e\u{301}"], .number("2"))
    }

    func testAcceptsNestingUpToTheDepthLimit() throws {
        let depth = JSONParser.maximumDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertNoThrow(try parse(text))
    }

    // MARK: Invalid documents

    func testRefusesDeepNestingWithoutCrashing() {
        let depth = 10_000
        assertRejects(String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                      atOffset: JSONParser.maximumDepth)
        assertRejects(String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth),
                      atOffset: 5 * JSONParser.maximumDepth)
        let justOver = JSONParser.maximumDepth + 1
        assertRejects(String(repeating: "[", count: justOver) + String(repeating: "]", count: justOver),
                      atOffset: JSONParser.maximumDepth)
    }

    func testRefusesEmptyInput() {
        assertRejects("", atOffset: 0)
        assertRejects("   ", atOffset: 3)
    }

    func testRefusesTrailingCommas() {
        assertRejects("[1,]", atOffset: 3)
        assertRejects(#"{"a":1,}"#, atOffset: 7)
        assertRejects("[,1]", atOffset: 1)
    }

    func testRefusesMalformedNumbers() {
        assertRejects("01", atOffset: 1)
        assertRejects("[00]", atOffset: 2)
        assertRejects("-01", atOffset: 2)
        assertRejects("-", atOffset: 1)
        assertRejects("1.", atOffset: 2)
        assertRejects(".5", atOffset: 0)
        assertRejects("+1", atOffset: 0)
        assertRejects("1e", atOffset: 2)
        assertRejects("1e+", atOffset: 3)
        assertRejects("0x10", atOffset: 1)
        assertRejects("NaN", atOffset: 0)
    }

    func testRefusesUnterminatedStrings() {
        assertRejects(#""abc"#, atOffset: 4)
        assertRejects(#""a\n"#, atOffset: 4)
        assertRejects(#""a\"#, atOffset: 3)
        assertRejects(#"{"key"#, atOffset: 5)
    }

    func testRefusesRawControlCharactersInStrings() {
        assertRejects([0x22, 0x61, 0x01, 0x62, 0x22], atOffset: 2)
        assertRejects("\"line\nbreak\"", atOffset: 5)
        assertRejects("\"tab\\n then\ttab\"", atOffset: 11)
    }

    func testRefusesInvalidEscapes() {
        assertRejects(#""\x41""#, atOffset: 3)
        assertRejects(#""\u12G4""#, atOffset: 5)
        assertRejects(#""\u12""#, atOffset: 3)
    }

    func testRefusesLoneSurrogates() {
        assertRejects(#""\uD800""#, atOffset: 7)
        assertRejects(#""\uDC00""#, atOffset: 7)
        assertRejects(#""\uD800\u0041""#, atOffset: 13)
        assertRejects(#""\uD800\uD800""#, atOffset: 13)
        assertRejects(#""\uD800x""#, atOffset: 7)
    }

    func testRefusesInvalidUTF8() {
        assertRejects([0x22, 0xFF, 0x22], atOffset: 1)
        assertRejects([0x22, 0xC3, 0x22], atOffset: 1, "a truncated two-byte sequence")
        assertRejects([0x22, 0xED, 0xA0, 0x80, 0x22], atOffset: 1, "a surrogate encoded as UTF-8")
        assertRejects([0x22, 0x5C, 0x6E, 0xC0, 0xAF, 0x22], atOffset: 1, "an overlong form after an escape")
        assertRejects([0x7B, 0x22, 0xFE, 0x22, 0x3A, 0x31, 0x7D], atOffset: 2, "in a member name")
    }

    func testRefusesTrailingGarbage() {
        assertRejects("{} x", atOffset: 3)
        assertRejects("truex", atOffset: 4)
        assertRejects("[1] [2]", atOffset: 4)
        assertRejects("1 2", atOffset: 2)
    }

    func testRefusesMalformedStructure() {
        assertRejects("tru", atOffset: 0)
        assertRejects("nul1", atOffset: 0)
        assertRejects("[1 2]", atOffset: 3)
        assertRejects(#"{"a" 1}"#, atOffset: 5)
        assertRejects("{a:1}", atOffset: 1)
        assertRejects(#"{"a":1 "b":2}"#, atOffset: 7)
        assertRejects("[1", atOffset: 2)
        assertRejects("{", atOffset: 1)
        assertRejects("'a'", atOffset: 0)
        assertRejects("\u{0C}1", atOffset: 0, "form feed is not JSON whitespace")
    }
}
