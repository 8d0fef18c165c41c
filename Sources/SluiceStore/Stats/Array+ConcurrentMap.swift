import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, each on a thread of its own (`concurrentPerform`),
    /// in order; throws the first error by position.
    func concurrentMap<Value: Sendable>(_ transform: @Sendable (Element) throws -> Value) throws -> [Value] {
        guard count > 1 else { return try map(transform) }
        let results = ResultSlots<Value>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            results.store(Result { try transform(self[index]) }, at: index)
        }
        return try results.values()
    }
}

/// One result per index, written from several threads.
private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ result: Result<Value, any Error>, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = result
    }

    /// Every value in order; every slot is filled once `concurrentPerform` returned.
    func values() throws -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        return try slots.compactMap { try $0?.get() }
    }
}
