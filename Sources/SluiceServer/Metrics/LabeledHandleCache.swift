import NIOConcurrencyHelpers

/// Metric handles by label values, made once and reused: making a handle takes
/// the registry's lock and allocates, which is too costly per request.
///
/// With a `capacity`, label values past that many distinct ones share the
/// handle of `overflowKey`, so an unbounded input cannot grow the exposition
/// without bound.
final class LabeledHandleCache<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = NIOLockedValueBox<[Key: Handle]>([:])
    private let capacity: Int?
    private let overflowKey: Key?
    private let make: @Sendable (Key) -> Handle

    init(capacity: Int? = nil, overflowKey: Key? = nil, make: @escaping @Sendable (Key) -> Handle) {
        precondition((capacity == nil) == (overflowKey == nil), "capacity and overflowKey go together")
        self.capacity = capacity
        self.overflowKey = overflowKey
        self.make = make
    }

    func handle(for key: Key) -> Handle {
        handles.withLockedValue { handles in
            if let handle = handles[key] {
                return handle
            }
            var key = key
            if let capacity, let overflowKey, handles.count >= capacity {
                key = overflowKey
                if let handle = handles[key] {
                    return handle
                }
            }
            let handle = make(key)
            handles[key] = handle
            return handle
        }
    }
}
