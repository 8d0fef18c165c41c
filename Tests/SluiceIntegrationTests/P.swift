import XCTest
final class PSluiceIntegrationTests: XCTestCase { func testNothing() {} }
