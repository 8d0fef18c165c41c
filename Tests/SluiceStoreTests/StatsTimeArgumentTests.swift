@testable import SluiceCore
import XCTest

final class StatsTimeArgumentTests: XCTestCase {
    private let now = 1_795_669_200.0 // 2026-11-26T05:00:00Z

    func testCalendarLabels() {
        XCTAssertEqual(UTCCalendar.dayLabel(daysSinceEpoch: 0), "1970-01-01")
        XCTAssertEqual(UTCCalendar.dayLabel(daysSinceEpoch: 1_795_651_200 / 86_400), "2026-11-26")
        XCTAssertEqual(UTCCalendar.dayLabel(daysSinceEpoch: 11_016), "2000-02-29")
        XCTAssertEqual(UTCCalendar.hourLabel(hoursSinceEpoch: 1_795_669_200 / 3_600), "2026-11-26T05:00Z")
    }

    func testParsingDates() {
        XCTAssertEqual(UTCCalendar.parseDate("2026-11-26"), 1_795_651_200)
        XCTAssertEqual(UTCCalendar.parseDate("2026-11-26T05:00:00Z"), now)
        XCTAssertEqual(UTCCalendar.parseDate("2026-11-26T05:00Z"), now)
        XCTAssertEqual(UTCCalendar.parseDate("2024-02-29"), 1_709_164_800)
        for bad in ["", "2026-11", "2026-13-01", "2026-02-29", "2026-11-26T25:00:00Z", "2026-11-26T05:00:00",
                    "2026-11-26 05:00:00Z", "26-11-2026", "2026-11-26T05:00:00+01:00", "yesterday"] {
            XCTAssertNil(UTCCalendar.parseDate(bad), bad)
        }
    }

    func testSinceTakesADurationOrADate() throws {
        XCTAssertEqual(try StatsTimeArgument.since("24h", now: now), now - 86_400)
        XCTAssertEqual(try StatsTimeArgument.since("90s", now: now), now - 90)
        XCTAssertEqual(try StatsTimeArgument.since("2026-11-26", now: now), 1_795_651_200)
        XCTAssertThrowsError(try StatsTimeArgument.since("soon", now: now)) { error in
            XCTAssertTrue("\(error)".contains("--since 'soon'"), "\(error)")
        }
        XCTAssertThrowsError(try StatsTimeArgument.since("0", now: now))
    }

    func testUntilTakesOnlyADate() throws {
        XCTAssertEqual(try StatsTimeArgument.until("2026-11-26T05:00:00Z"), now)
        XCTAssertThrowsError(try StatsTimeArgument.until("24h"))
    }

    func testOlderThanTakesADuration() throws {
        XCTAssertEqual(try StatsTimeArgument.olderThan("7d", now: now), now - 7 * 86_400)
        XCTAssertThrowsError(try StatsTimeArgument.olderThan("2026-11-26", now: now))
    }

    func testNearestRank() {
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: []), 0)
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: [7]), 7)
        XCTAssertEqual(NearestRank.percentile(95, ofSorted: [7]), 7)
        let values = (1...20).map(Double.init)
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: values), 10)
        XCTAssertEqual(NearestRank.percentile(95, ofSorted: values), 19)
        XCTAssertEqual(NearestRank.percentile(100, ofSorted: values), 20)
        XCTAssertEqual(NearestRank.percentile(0, ofSorted: values), 1)
    }
}
