import XCTest
final class PSluiceServerTests: XCTestCase { func testNothing() {} }
