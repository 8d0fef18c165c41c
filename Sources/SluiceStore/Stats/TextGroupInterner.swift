import Foundation

/// Numbers the distinct texts of the group column as a scan meets them.
///
/// A text is looked up by its bytes where SQLite holds them, so a row whose
/// group was seen before costs a hash and a compare, not a `String`.
final class TextGroupInterner {
    /// The number of the NULL text (e.g. a request refused before its model was read).
    static let nullIndex = -1

    private var indices: [GroupBytes: Int] = [:]
    /// The owned copies the keys of `indices` point into; freed in `deinit`.
    private var copies: [UnsafeMutableRawBufferPointer] = []
    private var labels: [String] = []

    deinit {
        for copy in copies { copy.deallocate() }
    }

    /// The number of `bytes` (UTF-8), or `nullIndex` for NULL. The bytes are only read
    /// during the call.
    func index(of bytes: UnsafeRawBufferPointer?) -> Int {
        guard let bytes else { return Self.nullIndex }
        if let index = indices[GroupBytes(bytes: bytes)] { return index }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        copy.copyMemory(from: bytes)
        copies.append(copy)
        let owned = UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count])
        let index = labels.count
        indices[GroupBytes(bytes: owned)] = index
        labels.append(String(decoding: owned, as: UTF8.self))
        return index
    }

    /// The text numbered `index`; nil for `nullIndex`.
    func label(at index: Int) -> String? {
        labels.indices.contains(index) ? labels[index] : nil
    }
}

/// Bytes compared and hashed by content, wherever they live.
private struct GroupBytes: Hashable {
    let bytes: UnsafeRawBufferPointer

    static func == (left: GroupBytes, right: GroupBytes) -> Bool {
        guard left.bytes.count == right.bytes.count else { return false }
        guard let l = left.bytes.baseAddress, let r = right.bytes.baseAddress else { return true }
        return memcmp(l, r, left.bytes.count) == 0
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bytes: bytes)
    }
}
