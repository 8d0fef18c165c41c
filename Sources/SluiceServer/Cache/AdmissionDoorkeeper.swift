/// Decides which entries read from SQLite are worth a place in the memory front:
/// those read twice while still remembered here.
///
/// With hits spread over a cache far larger than memory, admitting every entry
/// read would evict a warm entry for one that is unlikely to be asked for again
/// soon. The doorkeeper remembers a fingerprint of the last entry read per slot
/// (a fixed table, no allocation per read) and admits an entry when it finds it
/// there already. A collision only delays or grants one admission.
struct AdmissionDoorkeeper {
    private var fingerprints: [Int]

    /// - Parameter slots: fingerprints remembered; 64 Ki slots take 512 KiB.
    init(slots: Int = 1 << 16) {
        precondition(slots > 0)
        fingerprints = Array(repeating: 0, count: slots)
    }

    /// True when the entry was seen recently (and forgets it); else remembers it.
    /// - Parameter entryID: the entry's id: the first 8 bytes of its SHA-256 key,
    ///   already uniformly spread.
    mutating func admits(entryID: Int64) -> Bool {
        let fingerprint = Int(truncatingIfNeeded: entryID) | 1  // never 0, the empty slot
        let slot = Int(UInt(bitPattern: fingerprint) % UInt(fingerprints.count))
        if fingerprints[slot] == fingerprint {
            fingerprints[slot] = 0
            return true
        }
        fingerprints[slot] = fingerprint
        return false
    }
}
