import SluiceCore
import XCTest

final class CanonicalJSONTests: XCTestCase {
    private func canonical(_ text: String) throws -> String {
        let value = try JSONParser.parse(Array(text.utf8))
        return String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
    }

    func testSortsMembersAtEveryLevel() throws {
        XCTAssertEqual(
            try canonical(#"{"b":1,"a":{"d":[1,{"z":0,"y":0}],"c":null}}"#),
            #"{"a":{"c":null,"d":[1,{"y":0,"z":0}]},"b":1}"#)
    }

    func testSortsNamesByTheirUTF8Bytes() throws {
        // Uppercase before lowercase, a prefix before its extensions, ASCII before é.
        XCTAssertEqual(try canonical(#"{"é":1,"z":2,"aa":3,"a":4,"Z":5}"#), #"{"Z":5,"a":4,"aa":3,"z":2,"é":1}"#)
        // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in UTF-8, though not in UTF-16.
        XCTAssertEqual(try canonical(#"{"😀":1,"～":2}"#), #"{"～":2,"😀":1}"#)
    }

    func testRemovesInsignificantWhitespace() throws {
        XCTAssertEqual(
            try canonical(" {\n  \"a\" : [ 1 , 2 ] ,\t\"b\" : { } , \"c\":\" keep  these \" }\r\n"),
            #"{"a":[1,2],"b":{},"c":" keep  these "}"#)
    }

    func testKeepsTheLastOfRepeatedNames() throws {
        XCTAssertEqual(try canonical(#"{"a":1,"b":2,"a":3}"#), #"{"a":3,"b":2}"#)
        XCTAssertEqual(try canonical(#"{"x":{"k":1,"k":{"n":true}}}"#), #"{"x":{"k":{"n":true}}}"#)
    }

    func testKeepsCanonicallyEquivalentButDifferentNamesApart() throws {
        // Precomposed and decomposed "é" are different JSON names; merging them
        // would give two different requests one cache key.
        // Compared as bytes: Swift's String equality would call both spellings equal.
        let text = "{\"\u{E9}\":1,\"e\u{301}\":2}"
        XCTAssertEqual(Array(try canonical(text).utf8), Array("{\"e\u{301}\":2,\"\u{E9}\":1}".utf8))
        XCTAssertNotEqual(Array(try canonical(text).utf8), Array(try canonical("{\"e\u{301}\":2}").utf8))
    }

    func testKeepsNumbersAsWritten() throws {
        XCTAssertEqual(try canonical("[1.0, 1, 1e3, -0, 0.70]"), "[1.0,1,1e3,-0,0.70]")
        XCTAssertNotEqual(try canonical(#"{"temperature":1.0}"#), try canonical(#"{"temperature":1}"#))
    }

    func testWritesLiterals() throws {
        XCTAssertEqual(try canonical("[true,false,null,\"\",[],{}]"), #"[true,false,null,"",[],{}]"#)
    }

    func testEscapesStringsMinimally() {
        let encoded = CanonicalJSON.encode(.string("q\"b\\s/n\nr\rt\t\u{1}\u{1F}\u{7F}é😀"))
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #""q\"b\\s/n\nr\rt\t\u0001\u001f"# + "\u{7F}é😀\"")
    }

    func testEscapedStringsRoundTripThroughTheParser() throws {
        var every = String()
        for scalar in 0..<0x80 { every.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        let samples = [every, "", "\"", "\\", "\u{0}", "line\nbreak", "é\u{301} 😀 \u{2028} \u{FEFF}"]
        for sample in samples {
            let value = JSONValue.object([JSONMember(name: sample, value: .string(sample))])
            let encoded = CanonicalJSON.encode(value)
            let parsed = try JSONParser.parse(encoded)
            XCTAssertEqual(parsed, value, sample.debugDescription)
            XCTAssertEqual(parsed[sample]?.stringValue.map { Array($0.utf8) }, Array(sample.utf8), "byte for byte")
            XCTAssertEqual(CanonicalJSON.encode(parsed), encoded)
        }
    }

    func testReorderedAndReformattedBodiesShareCanonicalBytes() throws {
        let first = #"{"model":"openai/gpt-5","messages":[{"role":"user","content":"Hi"}],"temperature":0.2}"#
        let second = """
        {
          "temperature": 0.2,
          "messages": [ { "content": "Hi", "role": "user" } ],
          "model": "openai/gpt-5"
        }
        """
        XCTAssertEqual(try canonical(first), try canonical(second))
        let otherContent = #"{"model":"openai/gpt-5","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#
        XCTAssertNotEqual(try canonical(first), try canonical(otherContent))
    }

    func testCanonicalFormIsAFixedPoint() throws {
        let once = try canonical(#"{"b":[{"d":1,"c":2}],"a":"x\u0041\n"}"#)
        XCTAssertEqual(try canonical(once), once)
        XCTAssertEqual(once, #"{"a":"xA\n","b":[{"c":2,"d":1}]}"#)
    }
}
