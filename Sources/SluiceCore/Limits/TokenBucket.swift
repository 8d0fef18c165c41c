/// A token bucket: holds up to `capacity` tokens and refills continuously at
/// `refillPerSecond`.
///
/// A pure value: it never reads a clock. Every operation takes `now`, the
/// reading of a monotonic clock as a `Duration` since a fixed origin; readings
/// must not go backwards (an earlier one is treated as no time passing).
///
/// - The balance may go negative: `charge` (a settlement that costs more than
///   was reserved, or a reservation that waits its turn) leaves a debt that the
///   refill pays off before anything fits again. A settlement never takes the
///   balance below minus one full bucket, so no answer, however large its
///   usage, can shut a key out for longer than two refills of the bucket
///   (waiting reservations are bounded by `max_wait` instead).
/// - An amount larger than the capacity needs a full bucket (it could never
///   find more) and is then taken in full, leaving a debt.
/// - Comparisons allow a tolerance of about a millionth of a token, so floating
///   point never makes "wait `timeUntilAvailable`, then take" fail.
public struct TokenBucket: Sendable, Equatable {
    public private(set) var capacity: Double
    public private(set) var refillPerSecond: Double
    /// The balance as of `updatedAt`.
    private var storedBalance: Double
    private var updatedAt: Duration

    /// A full bucket. Negative or non-finite parameters are taken as zero.
    public init(capacity: Double, refillPerSecond: Double, now: Duration) {
        self.capacity = Self.sanitised(capacity)
        self.refillPerSecond = Self.sanitised(refillPerSecond)
        self.storedBalance = self.capacity
        self.updatedAt = now
    }

    /// Tokens in the bucket at `now`; negative while in debt.
    public func balance(now: Duration) -> Double {
        guard now > updatedAt else { return storedBalance }
        return min(capacity, storedBalance + (now - updatedAt).inSeconds * refillPerSecond)
    }

    /// Whole tokens available at `now` (never negative).
    public func remaining(now: Duration) -> Int {
        Int(flooringNonNegative: balance(now: now) + tolerance)
    }

    /// Whether `amount` could be taken at `now`.
    public func canTake(_ amount: Int, now: Duration) -> Bool {
        balance(now: now) + tolerance >= required(amount)
    }

    /// Takes `amount` if it is available at `now`; otherwise leaves the bucket as it is.
    public mutating func tryTake(_ amount: Int, now: Duration) -> Bool {
        guard canTake(amount, now: now) else { return false }
        charge(amount, now: now)
        return true
    }

    /// Takes `amount` whether or not it is available; the balance may go negative.
    public mutating func charge(_ amount: Int, now: Duration) {
        refill(until: now)
        storedBalance -= Double(max(0, amount))
    }

    /// Returns `amount` to the bucket (never beyond its capacity).
    public mutating func giveBack(_ amount: Int, now: Duration) {
        refill(until: now)
        storedBalance = min(capacity, storedBalance + Double(max(0, amount)))
    }

    /// Corrects a reservation of `reserved` once `actual` is known: charges
    /// the difference, or gives it back.
    public mutating func settle(reserved: Int, actual: Int, now: Duration) {
        let difference = max(0, actual) - max(0, reserved)
        if difference > 0 {
            // An answer that used more than reserved owes at most one bucket.
            refill(until: now)
            let floor = min(storedBalance, -capacity)
            storedBalance = max(floor, storedBalance - Double(difference))
        } else {
            giveBack(-difference, now: now)
        }
    }

    /// How long from `now` until `amount` can be taken, if nothing else takes
    /// or gives back meanwhile. `Duration.zero` when it can be taken now.
    public func timeUntilAvailable(_ amount: Int, now: Duration) -> Duration {
        wait(forBalance: required(amount), now: now)
    }

    /// How long from `now` until the bucket is full again, if nothing is taken meanwhile.
    public func timeUntilFull(now: Duration) -> Duration {
        wait(forBalance: capacity, now: now)
    }

    /// The moment the bucket is (or was) full again, if nothing is taken after
    /// the last change.
    public var fullAt: Duration {
        updatedAt + wait(forBalance: capacity, now: updatedAt)
    }

    /// Applies new limits (e.g. on SIGHUP): refills at the old rate up to
    /// `now`, then keeps the balance, clamped to the new capacity.
    public mutating func reconfigure(capacity: Double, refillPerSecond: Double, now: Duration) {
        refill(until: now)
        self.capacity = Self.sanitised(capacity)
        self.refillPerSecond = Self.sanitised(refillPerSecond)
        storedBalance = min(storedBalance, self.capacity)
    }

    private mutating func refill(until now: Duration) {
        storedBalance = balance(now: now)
        updatedAt = max(updatedAt, now)
    }

    private func wait(forBalance target: Double, now: Duration) -> Duration {
        let deficit = target - balance(now: now)
        guard deficit > tolerance else { return .zero }
        guard refillPerSecond > 0 else { return .forever }
        return Duration(roundingSeconds: deficit / refillPerSecond)
    }

    /// The balance `amount` needs: itself, but never more than a full bucket.
    private func required(_ amount: Int) -> Double {
        min(Double(max(0, amount)), capacity)
    }

    /// Covers floating-point error and the rounding of waits to whole nanoseconds.
    private var tolerance: Double { 1e-6 + refillPerSecond * 2e-9 }

    private static func sanitised(_ value: Double) -> Double {
        value.isFinite && value > 0 ? value : 0
    }
}
