import SluiceCore
import XCTest

/// Asserts that `body` throws a `ConfigError` and returns its text.
@discardableResult
func assertConfigError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> String {
    do {
        let value = try body()
        XCTFail("expected a ConfigError, got \(value)", file: file, line: line)
        return ""
    } catch let error as ConfigError {
        return error.description
    } catch {
        XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
        return ""
    }
}

/// Asserts that `text` contains each of `fragments`.
func assertContains(_ text: String, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
    for fragment in fragments where !text.contains(fragment) {
        XCTFail("\(text.debugDescription) does not contain \(fragment.debugDescription)", file: file, line: line)
    }
}
