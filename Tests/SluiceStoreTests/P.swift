import XCTest
final class PSluiceStoreTests: XCTestCase { func testNothing() {} }
