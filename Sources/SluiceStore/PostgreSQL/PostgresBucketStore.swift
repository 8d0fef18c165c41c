import PostgresNIO

/// Token buckets in PostgreSQL, shared by every daemon of a fleet: a key's
/// limit holds across all of them.
///
/// A take is one statement that locks the key's bucket rows (in name order,
/// so concurrent takes never deadlock), refills them by the time passed on the
/// database's clock, and takes only when every draw fits: many daemons taking
/// at once never oversell. The arithmetic is `TokenBucket`'s, tolerance included.
public struct PostgresBucketStore: RateLimitBucketStorage {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    public func take(_ draws: [BucketDraw], forKey keyID: String, maxWait: Double) async throws -> BucketDecision {
        var byName: [String: BucketDraw] = [:]
        for draw in draws { byName[draw.bucket.name] = draw }
        guard byName.count == draws.count else {
            throw PostgresStoreError.failed("rate limit take", server: database.url.server, reason: "a bucket is named twice")
        }
        guard !draws.isEmpty else { return BucketDecision(isTaken: true, waitSeconds: 0, remaining: [:]) }
        let draws = draws.map(\.sanitised)
        let logger = database.logger
        let server = database.url.server
        return try await database.perform("rate limit take") { connection in
            if let decision = try await Self.take(draws, keyID: keyID, maxWait: maxWait, on: connection, logger: logger) {
                return decision
            }
            // First use of a bucket: it starts full.
            try await connection.run("""
                INSERT INTO rate_limit_buckets (key_id, bucket, level, updated_at)
                SELECT \(keyID), bucket, capacity, clock_timestamp()
                FROM unnest(\(draws.map(\.bucket.name))::text[], \(draws.map(\.bucket.capacity))::float8[])
                    AS d(bucket, capacity)
                ON CONFLICT (key_id, bucket) DO NOTHING
                """, logger: logger)
            guard let decision = try await Self.take(draws, keyID: keyID, maxWait: maxWait, on: connection, logger: logger)
            else {
                throw PostgresStoreError.failed(
                    "rate limit take", server: server, reason: "the key's buckets vanished while being taken from")
            }
            return decision
        }
    }

    /// The take statement; nil when a bucket has no row yet (then nothing is taken).
    private static func take(
        _ draws: [BucketDraw], keyID: String, maxWait: Double, on connection: PostgresConnection, logger: Logger
    ) async throws -> BucketDecision? {
        let rows = try await connection.query("""
            WITH draws AS (
                SELECT * FROM unnest(
                    \(draws.map(\.bucket.name))::text[], \(draws.map(\.bucket.capacity))::float8[],
                    \(draws.map(\.bucket.refillPerSecond))::float8[], \(draws.map { Double($0.amount) })::float8[]
                ) AS d(bucket, capacity, refill_per_second, amount)
            ), current AS (
                SELECT b.bucket, d.capacity, d.refill_per_second, d.amount,
                       least(d.capacity, b.level + d.refill_per_second
                             * greatest(0, extract(epoch FROM clock_timestamp() - b.updated_at)::float8)) AS balance
                FROM rate_limit_buckets b JOIN draws d ON d.bucket = b.bucket
                WHERE b.key_id = \(keyID)
                ORDER BY b.bucket
                FOR UPDATE OF b
            ), waits AS (
                SELECT *, CASE
                    WHEN amount <= 0 OR least(amount, capacity) - balance <= 1e-6 + refill_per_second * 2e-9 THEN 0
                    WHEN refill_per_second <= 0 THEN 'Infinity'::float8
                    ELSE (least(amount, capacity) - balance) / refill_per_second
                END AS wait
                FROM current
            ), decision AS (
                SELECT count(*) = \(draws.count) AND coalesce(max(wait), 0) <= \(maxWait) AS taken,
                       coalesce(max(wait), 0) AS wait
                FROM waits
            ), taken AS (
                UPDATE rate_limit_buckets b
                SET level = w.balance - w.amount, updated_at = greatest(b.updated_at, clock_timestamp())
                FROM waits w, decision
                WHERE decision.taken AND b.key_id = \(keyID) AND b.bucket = w.bucket
                RETURNING b.bucket, b.level
            )
            SELECT w.bucket, decision.taken, decision.wait, coalesce(t.level, w.balance), w.refill_per_second
            FROM waits w CROSS JOIN decision LEFT JOIN taken t ON t.bucket = w.bucket
            """, logger: logger)
        var decision = BucketDecision(isTaken: false, waitSeconds: 0, remaining: [:])
        for try await (bucket, taken, wait, level, refill) in rows.decode((String, Bool, Double, Double, Double).self) {
            decision.isTaken = taken
            decision.waitSeconds = wait
            decision.remaining[bucket] = BucketArithmetic.wholeTokens(level, refillPerSecond: refill)
        }
        return decision.remaining.count == draws.count ? decision : nil
    }

    public func settle(_ bucket: BucketLimit, forKey keyID: String, reserved: Int, actual: Int) async throws {
        let bucket = BucketDraw(bucket, amount: 0).sanitised.bucket
        let difference = Double(max(0, actual) - max(0, reserved))
        guard difference != 0 else { return }
        let logger = database.logger
        // A charge owes at most one full bucket; a refund never overfills.
        try await database.perform("rate limit settlement") { connection in
            try await connection.run("""
                WITH refilled AS (
                    SELECT key_id, bucket, least(\(bucket.capacity), level + \(bucket.refillPerSecond)
                           * greatest(0, extract(epoch FROM clock_timestamp() - updated_at)::float8)) AS balance
                    FROM rate_limit_buckets
                    WHERE key_id = \(keyID) AND bucket = \(bucket.name)
                    FOR UPDATE
                )
                UPDATE rate_limit_buckets b
                SET level = CASE
                        WHEN \(difference) > 0 THEN greatest(least(r.balance, -\(bucket.capacity)), r.balance - \(difference))
                        ELSE least(\(bucket.capacity), r.balance - \(difference))
                    END,
                    updated_at = greatest(b.updated_at, clock_timestamp())
                FROM refilled r
                WHERE b.key_id = r.key_id AND b.bucket = r.bucket
                """, logger: logger)
        }
    }
}

/// `TokenBucket`'s rules for parameters and whole tokens.
enum BucketArithmetic {
    /// Whole tokens in a bucket at `level`, never negative, with `TokenBucket`'s tolerance.
    static func wholeTokens(_ level: Double, refillPerSecond: Double) -> Int {
        let value = level + 1e-6 + refillPerSecond * 2e-9
        guard value > 0 else { return 0 }
        return value >= Double(Int.max) ? .max : Int(value.rounded(.down))
    }

    /// Negative or non-finite parameters are taken as zero.
    static func sanitised(_ value: Double) -> Double {
        value.isFinite && value > 0 ? value : 0
    }
}

private extension BucketDraw {
    var sanitised: BucketDraw {
        BucketDraw(
            BucketLimit(
                name: bucket.name, capacity: BucketArithmetic.sanitised(bucket.capacity),
                refillPerSecond: BucketArithmetic.sanitised(bucket.refillPerSecond)),
            amount: max(0, amount))
    }
}
