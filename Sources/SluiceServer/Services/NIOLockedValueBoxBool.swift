import NIOConcurrencyHelpers

/// A Boolean that can be read and set from any thread.
final class NIOLockedValueBoxBool: Sendable {
    private let box = NIOLockedValueBox(false)
    func set() { box.withLockedValue { $0 = true } }
    var value: Bool { box.withLockedValue { $0 } }
}
