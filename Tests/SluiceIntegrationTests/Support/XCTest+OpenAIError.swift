import XCTest

/// Asserts `result` is an error Sluice itself made: `status`, and the OpenAI
/// error shape `{"error":{"message","type","code"}}` with non-empty strings.
func XCTAssertOpenAIError(
    _ result: HTTPResult, status: Int, _ context: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(result.status, status, "\(context): body \(result.text)", file: file, line: line)
    guard let error = result.json?["error"] as? [String: Any] else {
        XCTFail("\(context): no {\"error\":{…}} object in \(result.text)", file: file, line: line)
        return
    }
    for field in ["message", "type", "code"] {
        let value = error[field] as? String
        XCTAssertFalse(value?.isEmpty ?? true, "\(context): error.\(field) should be a non-empty string in \(result.text)", file: file, line: line)
    }
    XCTAssertTrue(
        result.header("content-type")?.hasPrefix("application/json") ?? false,
        "\(context): content-type of an error is \(result.header("content-type") ?? "absent")", file: file, line: line
    )
}

/// Two JSON bodies carry the same value (key order and spacing aside).
func XCTAssertSameJSON(
    _ left: Data, _ right: Data, _ context: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    let parse = { (data: Data) in try? JSONSerialization.jsonObject(with: data) as? NSObject }
    guard let lhs = parse(left), let rhs = parse(right) else {
        XCTFail("\(context): not JSON: \(String(decoding: left, as: UTF8.self)) / \(String(decoding: right, as: UTF8.self))", file: file, line: line)
        return
    }
    XCTAssertEqual(lhs, rhs, context, file: file, line: line)
}
