@testable import SluiceServer
import XCTest

final class AdmissionDoorkeeperTests: XCTestCase {
    func testAnEntryIsAdmittedOnItsSecondReadOnly() {
        var doorkeeper = AdmissionDoorkeeper(slots: 1024)
        XCTAssertFalse(doorkeeper.admits(entryID: 42), "first read: remembered, not admitted")
        XCTAssertTrue(doorkeeper.admits(entryID: 42), "second read: admitted")
        XCTAssertFalse(doorkeeper.admits(entryID: 42), "admitted entries are forgotten")
    }

    func testAnotherEntryInTheSameSlotTakesItOver() {
        var doorkeeper = AdmissionDoorkeeper(slots: 4)
        // 3 and 7 share slot 3 of 4 (fingerprints are odd, 3 | 1 == 3 and 7 | 1 == 7).
        XCTAssertFalse(doorkeeper.admits(entryID: 3))
        XCTAssertFalse(doorkeeper.admits(entryID: 7))
        XCTAssertFalse(doorkeeper.admits(entryID: 3), "7 replaced 3 in the slot")
        XCTAssertTrue(doorkeeper.admits(entryID: 3))
    }

    func testSpreadReadsAdmitAlmostNothing() {
        var doorkeeper = AdmissionDoorkeeper(slots: 1 << 16)
        var admitted = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 where doorkeeper.admits(entryID: Int64.random(in: 0..<1_000_000, using: &generator)) {
            admitted += 1
        }
        // A second read within the slot's memory is rare for uniform reads over 1M ids.
        XCTAssertLessThan(admitted, 10_000)
    }
}
