import XCTest
final class PSluiceCoreTests: XCTestCase { func testNothing() {} }
