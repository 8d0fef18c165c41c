#if canImport(Glibc)
import Glibc
#endif

/// Calendar time in seconds since 1970, for what must survive a restart
/// (cache entry ages, usage row times). Injected so tests can move it.
public protocol WallClock: Sendable {
    func now() -> Double
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
