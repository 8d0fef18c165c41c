import SluiceCore
import XCTest

final class SpendLedgerTests: XCTestCase {
    /// 2026-12-04T12:00:00Z.
    static let noon = UTCCalendar.parseDate("2026-12-04T12:00:00Z")!
    static let day = 86_400.0

    func testWindowStartsAndEnds() {
        let cases: [(time: String, window: BudgetWindow, start: String, end: String)] = [
            ("2026-12-04T12:00:00Z", .day, "2026-12-04", "2026-12-05"),
            ("2026-12-04T00:00:00Z", .day, "2026-12-04", "2026-12-05"),
            ("2026-12-04T23:59:59Z", .day, "2026-12-04", "2026-12-05"),
            ("2026-12-31T23:59:59Z", .month, "2026-12-01", "2027-01-01"),
            ("2026-12-01T00:00:00Z", .month, "2026-12-01", "2027-01-01"),
            ("2028-02-29T10:00:00Z", .month, "2028-02-01", "2028-03-01"),
            ("2027-02-28T10:00:00Z", .day, "2027-02-28", "2027-03-01"),
        ]
        for test in cases {
            let time = UTCCalendar.parseDate(test.time)!
            XCTAssertEqual(SpendLedger.start(of: test.window, at: time), UTCCalendar.parseDate(test.start), "\(test)")
            XCTAssertEqual(SpendLedger.end(of: test.window, at: time), UTCCalendar.parseDate(test.end), "\(test)")
        }
    }

    /// One step of a ledger script: admit (with a worst case) or settle the n-th reservation.
    enum Step {
        case admit(at: String, worstCase: Double?, expect: Expect)
        case settle(Int, cost: Double?, at: String)
        case seed(day: Double, month: Double, at: String)
    }

    enum Expect: Equatable {
        case allowed
        case refused(BudgetWindow, resetsAt: String)
    }

    func testScripts() {
        let scripts: [(name: String, budget: Budget, steps: [Step])] = [
            ("spend reaching the daily cap refuses; midnight resets it", Budget(usdPerDay: 2), [
                .admit(at: "2026-12-04T10:00:00Z", worstCase: nil, expect: .allowed),
                .settle(0, cost: 1, at: "2026-12-04T10:00:01Z"),
                .admit(at: "2026-12-04T11:00:00Z", worstCase: nil, expect: .allowed),
                .settle(1, cost: 1, at: "2026-12-04T11:00:01Z"),
                .admit(at: "2026-12-04T23:59:59Z", worstCase: nil, expect: .refused(.day, resetsAt: "2026-12-05T00:00:00Z")),
                .admit(at: "2026-12-05T00:00:00Z", worstCase: nil, expect: .allowed),
            ]),
            ("without a worst case, requests in flight are all admitted (the no-price bound)", Budget(usdPerDay: 2), [
                .admit(at: "2026-12-04T10:00:00Z", worstCase: nil, expect: .allowed),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: nil, expect: .allowed),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: nil, expect: .allowed),
                .settle(0, cost: 1.5, at: "2026-12-04T10:00:01Z"),
                .settle(1, cost: 1.5, at: "2026-12-04T10:00:01Z"),
                .settle(2, cost: 1.5, at: "2026-12-04T10:00:01Z"),
                .admit(at: "2026-12-04T10:00:02Z", worstCase: nil, expect: .refused(.day, resetsAt: "2026-12-05T00:00:00Z")),
            ]),
            ("concurrent reservations: admitted only while spent + reserved + worst case fits", Budget(usdPerDay: 5), [
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 2, expect: .allowed),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 2, expect: .allowed),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 2, expect: .refused(.day, resetsAt: "2026-12-05T00:00:00Z")),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 1, expect: .allowed),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 0.01, expect: .refused(.day, resetsAt: "2026-12-05T00:00:00Z")),
                // The first costs less than reserved: room comes back.
                .settle(0, cost: 0.5, at: "2026-12-04T10:00:01Z"),
                .admit(at: "2026-12-04T10:00:02Z", worstCase: 1.5, expect: .allowed),
                .admit(at: "2026-12-04T10:00:02Z", worstCase: nil, expect: .refused(.day, resetsAt: "2026-12-05T00:00:00Z")),
            ]),
            ("a request admitted before midnight counts in the day it arrived", Budget(usdPerDay: 1), [
                .admit(at: "2026-12-04T23:59:59Z", worstCase: 0.5, expect: .allowed),
                .settle(0, cost: 3, at: "2026-12-05T00:00:01Z"),
                .admit(at: "2026-12-05T00:00:02Z", worstCase: 0.9, expect: .allowed),
            ]),
            ("month end: the monthly cap resets on the 1st, and refuses before the daily one", Budget(usdPerDay: 10, usdPerMonth: 3), [
                .seed(day: 1, month: 3, at: "2026-12-31T08:00:00Z"),
                .admit(at: "2026-12-31T23:00:00Z", worstCase: nil, expect: .refused(.month, resetsAt: "2027-01-01T00:00:00Z")),
                .admit(at: "2027-01-01T00:00:00Z", worstCase: 2.5, expect: .allowed),
                .settle(0, cost: 2.5, at: "2027-01-01T00:00:01Z"),
                .admit(at: "2027-01-02T00:00:00Z", worstCase: 1, expect: .refused(.month, resetsAt: "2027-02-01T00:00:00Z")),
                .admit(at: "2027-01-02T00:00:00Z", worstCase: 0.5, expect: .allowed),
            ]),
            ("a cap of zero refuses everything", Budget(usdPerMonth: 0), [
                .admit(at: "2026-12-04T10:00:00Z", worstCase: nil, expect: .refused(.month, resetsAt: "2027-01-01T00:00:00Z")),
            ]),
            ("no cap: always allowed", Budget(), [
                .seed(day: 1e6, month: 1e6, at: "2026-12-04T10:00:00Z"),
                .admit(at: "2026-12-04T10:00:00Z", worstCase: 1e6, expect: .allowed),
            ]),
        ]
        for script in scripts {
            var ledger = SpendLedger()
            var reservations: [BudgetReservation] = []
            for (index, step) in script.steps.enumerated() {
                let context = "\(script.name), step \(index)"
                switch step {
                case .admit(let time, let worstCase, let expect):
                    let decision = ledger.admit(keyID: "web", worstCase: worstCase, budget: script.budget, now: UTCCalendar.parseDate(time)!)
                    switch (decision, expect) {
                    case (.allowed(let reservation), .allowed):
                        reservations.append(reservation)
                    case (.refused(let cap, let resetsAt, _, _), .refused(let window, let reset)):
                        XCTAssertEqual(cap.window, window, context)
                        XCTAssertEqual(resetsAt, UTCCalendar.parseDate(reset), context)
                    default:
                        XCTFail("\(context): \(decision), expected \(expect)")
                    }
                case .settle(let number, let cost, let time):
                    ledger.settle(reservations[number], actualCost: cost, now: UTCCalendar.parseDate(time)!)
                case .seed(let day, let month, let time):
                    ledger.seed(keyID: "web", daySpend: day, monthSpend: month, now: UTCCalendar.parseDate(time)!)
                }
            }
        }
    }

    func testKeysAreApartAndIdleOnesAreDropped() {
        var ledger = SpendLedger()
        let budget = Budget(usdPerDay: 1)
        guard case .allowed(let web) = ledger.admit(keyID: "web", worstCase: nil, budget: budget, now: Self.noon) else {
            return XCTFail("web refused")
        }
        ledger.settle(web, actualCost: 1, now: Self.noon)
        XCTAssertEqual(ledger.committed(keyID: "web", now: Self.noon).day, 1)
        guard case .allowed(let batch) = ledger.admit(keyID: "batch", worstCase: 0.5, budget: budget, now: Self.noon) else {
            return XCTFail("batch refused: web's spend is not batch's")
        }
        XCTAssertEqual(ledger.committed(keyID: "batch", now: Self.noon).day, 0.5, "reserved counts")
        ledger.settle(batch, actualCost: nil, now: Self.noon)
        XCTAssertEqual(ledger.keyCount, 1, "batch spent nothing and has nothing in flight")
        ledger.dropIdle(now: Self.noon + 40 * Self.day)
        XCTAssertEqual(ledger.keyCount, 0, "web's spend is in past windows")
    }

    func testRefusalMessagesNameTheCapAndTheReset() {
        let reset = UTCCalendar.parseDate("2026-12-05")!
        let spent = SluiceError.budgetExhausted(
            cap: BudgetCap(window: .day, usd: 5), resetsAt: reset, spent: 5.2, worstCase: nil, retryAfterSeconds: 3600)
        XCTAssertEqual(spent.message, "This API key has spent its daily budget of $5.00 (resets 2026-12-05T00:00:00Z).")
        XCTAssertEqual(spent.status, 429)
        XCTAssertEqual(spent.code, "insufficient_quota")
        XCTAssertEqual(spent.type, "insufficient_quota")
        XCTAssertEqual(spent.headers.map { "\($0.0)=\($0.1)" }, ["retry-after=3600"])
        let tooDear = SluiceError.budgetExhausted(
            cap: BudgetCap(window: .month, usd: 20), resetsAt: UTCCalendar.parseDate("2027-01-01")!, spent: 19.5,
            worstCase: 0.75, retryAfterSeconds: 10)
        XCTAssertEqual(tooDear.message, "This request may cost up to $0.75, more than is left of this API key's monthly budget of $20.00 ($0.50 left, including requests in flight; resets 2027-01-01T00:00:00Z).")
        XCTAssertEqual(BudgetText.usd(0.0025), "$0.0025")
        XCTAssertEqual(BudgetText.usd(1.5), "$1.50")
    }

    func testBudgetKeyIDsResolveToNamesInKeysMode() throws {
        let entries = [ClientKeyEntry(name: "web", secret: .plain("sk-web")), ClientKeyEntry(name: "batch", secret: .plain("sk-batch"))]
        let webHex = entries[0].hashedKeyID
        let budgets = BudgetSettings(default: Budget(usdPerDay: 1), keys: [webHex: Budget(usdPerMonth: 3), "batch": Budget(usdPerDay: 2)])
        let resolved = budgets.resolvingKeyIDs(of: entries)
        XCTAssertEqual(resolved.budget(for: "web"), Budget(usdPerMonth: 3))
        XCTAssertEqual(resolved.budget(for: "batch"), Budget(usdPerDay: 2))
        XCTAssertNil(resolved.keys[webHex])
        XCTAssertEqual(budgets.resolvingKeyIDs(of: nil), budgets, "pass-through mode keeps hex ids")
    }
}

final class ModelPricesTests: XCTestCase {
    func testParsesTheGatewayModelList() throws {
        let body = #"""
            {"object":"list","data":[
              {"id":"openai/gpt-4o-mini","object":"model","pricing":{"input":"0.00000015","output":"0.0000006","input_cache_read":"0.000000075"}},
              {"id":"anthropic/claude-sonnet-4","pricing":{"input":"0.000003","output":"0.000015"}},
              {"id":"free/model","pricing":{"input":"0","output":"0"}},
              {"id":"no/pricing"},
              {"id":"bad/pricing","pricing":{"input":"abc","output":"-1"}},
              {"id":"numbers","pricing":{"input":0.5,"output":1}}
            ]}
            """#
        let prices = try XCTUnwrap(ModelPrices.parse(Array(body.utf8)))
        XCTAssertEqual(prices.byModel["openai/gpt-4o-mini"], .init(input: 0.00000015, output: 0.0000006))
        XCTAssertEqual(prices.byModel["anthropic/claude-sonnet-4"], .init(input: 0.000003, output: 0.000015))
        XCTAssertEqual(prices.byModel["free/model"], .init(input: 0, output: 0))
        XCTAssertEqual(prices.byModel["numbers"], .init(input: 0.5, output: 1))
        XCTAssertNil(prices.byModel["no/pricing"])
        XCTAssertNil(prices.byModel["bad/pricing"])
        XCTAssertNil(ModelPrices.parse(Array("not json".utf8)))
        XCTAssertNil(ModelPrices.parse(Array(#"{"error":{}}"#.utf8)))
    }

    func testWorstCase() throws {
        let prices = ModelPrices(byModel: ["m": .init(input: 0.001, output: 0.01)])
        // 400 bytes = 100 prompt tokens; 50 completion tokens.
        XCTAssertEqual(try XCTUnwrap(prices.worstCase(model: "m", bodyBytes: 400, maxTokens: 50)), 0.1 + 0.5, accuracy: 1e-12)
        // No max_tokens: the documented default.
        XCTAssertEqual(
            try XCTUnwrap(prices.worstCase(model: "m", bodyBytes: 401, maxTokens: nil)),
            101 * 0.001 + Double(ModelPrices.defaultCompletionTokens) * 0.01, accuracy: 1e-12)
        XCTAssertNil(prices.worstCase(model: "other", bodyBytes: 400, maxTokens: 50))
        XCTAssertNil(prices.worstCase(model: nil, bodyBytes: 400, maxTokens: 50))
    }
}
