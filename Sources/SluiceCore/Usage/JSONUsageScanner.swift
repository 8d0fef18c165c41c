/// Finds the top-level `usage` member of a JSON object answer as its bytes go by, chunk by chunk,
/// without building the JSON tree.
///
/// A byte-level state machine that also validates the whole body (RFC 8259, UTF-8 in strings,
/// `\u` surrogate pairs, the same depth limit as ``JSONParser``), so ``usage`` is exactly what
/// `JSONParser.parse(body)["usage"]` then ``TokenUsage/init(usageObject:)`` would give, with one
/// difference: a `usage` object larger than ``maximumUsageBytes`` counts as absent.
///
/// - Only a `usage` object is captured (any other value gives no usage); other values are
///   skipped without being stored, so memory stays bounded whatever the body size.
/// - Keys are compared after unescaping, as the parser does (`"us\u0061ge"` is `usage`).
/// - A repeated top-level `usage` keeps the last one, as ``JSONValue`` subscripts do.
/// - Chunk boundaries may fall anywhere; nothing recurses.
public struct JSONUsageScanner: Sendable {
    /// A captured `usage` value longer than this is given up on.
    public static let maximumUsageBytes = 64 * 1024

    private enum State: UInt8 {
        case start, objectStart, key, colon, value, arrayStart, afterValue, done, failed
        case string, escape, hex, surrogateBackslash, surrogateU
        case minus, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits
        case literal
    }

    private var state = State.start
    /// Open objects and arrays.
    private var depth = 0
    /// One bit per open container, set for an object (depth is at most 256).
    private var kinds: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    // String state.
    private var stringIsKey = false
    /// Bytes of `usage` matched so far in a depth-1 key, or -1.
    private var keyMatch: Int8 = -1
    private var utf8Pending: UInt8 = 0
    private var utf8Low: UInt8 = 0x80
    private var utf8High: UInt8 = 0xBF
    private var hexCount: UInt8 = 0
    private var hexValue: UInt32 = 0
    private var highSurrogate: UInt32 = 0

    // Literal state: the bytes still expected, lowest first.
    private var literalRest: UInt32 = 0
    private var literalCount: UInt8 = 0

    // The `usage` member.
    private var nextValueIsUsage = false
    private var capturing = false
    /// Set when the captured object closes, so the loop can take the bytes.
    private var captureEnded = false
    private var captureOverflowed = false
    private var captureStart = 0
    private var captured: [UInt8] = []
    private var lastUsage: JSONValue?

    public init() {}

    /// The answer's `usage` object, once the whole body has been seen and is a
    /// valid JSON object (trailing whitespace allowed); nil before that, and for anything else.
    public var usageObject: JSONValue? {
        state == .done ? lastUsage : nil
    }

    /// `usageObject` read with OpenAI's names (see `TokenUsage.init(usageObject:)`).
    public var usage: TokenUsage? {
        TokenUsage(usageObject: usageObject)
    }

    /// Feeds the next bytes of the body.
    public mutating func consume(_ bytes: some Sequence<UInt8>) {
        guard state != .failed else { return }
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            consume(buffer: buffer)
        }
        guard done == nil else { return }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(4096)
        for byte in bytes {
            chunk.append(byte)
            if chunk.count == 4096 {
                chunk.withUnsafeBufferPointer { consume(buffer: $0) }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        chunk.withUnsafeBufferPointer { consume(buffer: $0) }
    }

    /// Feeds the next bytes of the body.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        consume(buffer: bytes.assumingMemoryBound(to: UInt8.self))
    }

    // MARK: The state machine

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    private mutating func consume(buffer: UnsafeBufferPointer<UInt8>) {
        guard state != .failed, let base = buffer.baseAddress else { return }
        let count = buffer.count
        captureStart = 0
        var index = 0
        while index < count {
            let byte = base[index]
            switch state {
            case .string:
                var cursor = index
                if keyMatch < 0 && utf8Pending == 0 {
                    while cursor < count {
                        let next = base[cursor]
                        if next == Self.quote || next == Self.backslash || next < 0x20 || next >= 0x80 { break }
                        cursor += 1
                    }
                    if cursor == count { index = count; continue }
                }
                index = cursor
                stringByte(base[cursor])
            case .integer, .fraction, .exponentDigits:
                if isDigit(byte) {
                    var cursor = index + 1
                    while cursor < count, isDigit(base[cursor]) { cursor += 1 }
                    index = cursor
                    continue
                }
                if state != .exponentDigits, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    state = .exponent
                } else if state == .integer, byte == UInt8(ascii: ".") {
                    state = .dot
                } else {
                    state = .afterValue
                    continue  // the byte after a number is read again
                }
            case .zero:
                if byte == UInt8(ascii: ".") {
                    state = .dot
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    state = .exponent
                } else {
                    state = .afterValue
                    continue
                }
            default:
                structuralByte(byte, at: index)
                if captureEnded { finishCapture(buffer, through: index) }
            }
            guard state != .failed else { return }
            index += 1
        }
        if capturing { appendCapture(UnsafeBufferPointer(rebasing: buffer[captureStart..<count])) }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Everything but string content and number digits.
    private mutating func structuralByte(_ byte: UInt8, at index: Int) {
        switch state {
        case .start:
            if isWhitespace(byte) { return }
            if byte == UInt8(ascii: "{") { beginValue(byte, at: index) } else { state = .failed }
        case .value:
            if isWhitespace(byte) { return }
            beginValue(byte, at: index)
        case .arrayStart:
            if isWhitespace(byte) { return }
            if byte == UInt8(ascii: "]") { close(byte) } else { beginValue(byte, at: index) }
        case .objectStart:
            if isWhitespace(byte) { return }
            if byte == Self.quote {
                beginKey()
            } else if byte == UInt8(ascii: "}") {
                close(byte)
            } else {
                state = .failed
            }
        case .key:
            if isWhitespace(byte) { return }
            if byte == Self.quote { beginKey() } else { state = .failed }
        case .colon:
            if isWhitespace(byte) { return }
            state = byte == UInt8(ascii: ":") ? .value : .failed
        case .afterValue:
            if isWhitespace(byte) { return }
            if byte == UInt8(ascii: ",") {
                state = topIsObject ? .key : .value
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                close(byte)
            } else {
                state = .failed
            }
        case .done:
            if !isWhitespace(byte) { state = .failed }
        case .escape:
            let decoded: UInt8
            switch byte {
            case Self.quote, Self.backslash, UInt8(ascii: "/"): decoded = byte
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                hexCount = 0
                hexValue = 0
                state = .hex
                return
            default:
                state = .failed
                return
            }
            matchKey(decoded)
            state = .string
        case .hex:
            hexByte(byte)
        case .surrogateBackslash:
            state = byte == Self.backslash ? .surrogateU : .failed
        case .surrogateU:
            guard byte == UInt8(ascii: "u") else { state = .failed; return }
            hexCount = 0
            hexValue = 0
            state = .hex
        case .minus:
            if byte == UInt8(ascii: "0") {
                state = .zero
            } else if isDigit(byte) {
                state = .integer
            } else {
                state = .failed
            }
        case .dot:
            state = isDigit(byte) ? .fraction : .failed
        case .exponent:
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                state = .exponentSign
            } else {
                state = isDigit(byte) ? .exponentDigits : .failed
            }
        case .exponentSign:
            state = isDigit(byte) ? .exponentDigits : .failed
        case .literal:
            guard byte == UInt8(truncatingIfNeeded: literalRest) else { state = .failed; return }
            literalRest >>= 8
            literalCount -= 1
            if literalCount == 0 { state = .afterValue }
        case .string, .zero, .integer, .fraction, .exponentDigits, .failed:
            // Handled by the loop.
            break
        }
    }

    /// One byte of string content, after the fast path.
    private mutating func stringByte(_ byte: UInt8) {
        if utf8Pending > 0 {
            guard byte >= utf8Low && byte <= utf8High else { state = .failed; return }
            utf8Pending -= 1
            utf8Low = 0x80
            utf8High = 0xBF
            return
        }
        switch byte {
        case Self.quote:
            if stringIsKey {
                nextValueIsUsage = keyMatch == 5
                state = .colon
            } else {
                state = .afterValue
            }
        case Self.backslash:
            state = .escape
        case ..<0x20:
            state = .failed
        case ..<0x80:
            matchKey(byte)
        default:
            keyMatch = -1
            switch byte {
            case 0xC2...0xDF: utf8Pending = 1
            case 0xE0: utf8Pending = 2; utf8Low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: utf8Pending = 2
            case 0xED: utf8Pending = 2; utf8High = 0x9F
            case 0xF0: utf8Pending = 3; utf8Low = 0x90
            case 0xF1...0xF3: utf8Pending = 3
            case 0xF4: utf8Pending = 3; utf8High = 0x8F
            default: state = .failed
            }
        }
    }

    private mutating func hexByte(_ byte: UInt8) {
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: state = .failed; return
        }
        hexValue = hexValue << 4 | UInt32(digit)
        hexCount += 1
        guard hexCount == 4 else { return }
        let isHigh = (0xD800..<0xDC00).contains(hexValue)
        let isLow = (0xDC00..<0xE000).contains(hexValue)
        if highSurrogate != 0 {
            guard isLow else { state = .failed; return }
            highSurrogate = 0
            keyMatch = -1
            state = .string
        } else if isHigh {
            highSurrogate = hexValue
            state = .surrogateBackslash
        } else if isLow {
            state = .failed
        } else {
            if hexValue < 0x80 { matchKey(UInt8(hexValue)) } else { keyMatch = -1 }
            state = .string
        }
    }

    /// Advances the `usage` match of a depth-1 key by one (unescaped) byte.
    private mutating func matchKey(_ byte: UInt8) {
        guard keyMatch >= 0 else { return }
        let expected: UInt8
        switch keyMatch {
        case 0: expected = UInt8(ascii: "u")
        case 1: expected = UInt8(ascii: "s")
        case 2: expected = UInt8(ascii: "a")
        case 3: expected = UInt8(ascii: "g")
        case 4: expected = UInt8(ascii: "e")
        default: keyMatch = -1; return
        }
        keyMatch = byte == expected ? keyMatch + 1 : -1
    }

    private mutating func beginKey() {
        stringIsKey = true
        keyMatch = depth == 1 ? 0 : -1
        state = .string
    }

    private mutating func beginValue(_ byte: UInt8, at index: Int) {
        guard depth < JSONParser.maximumDepth else { state = .failed; return }
        if nextValueIsUsage {
            nextValueIsUsage = false
            if byte == UInt8(ascii: "{") {
                capturing = true
                captureOverflowed = false
                captured.removeAll(keepingCapacity: true)
                captureStart = index
            } else {
                lastUsage = nil
            }
        }
        switch byte {
        case UInt8(ascii: "{"): push(object: true); state = .objectStart
        case UInt8(ascii: "["): push(object: false); state = .arrayStart
        case Self.quote:
            stringIsKey = false
            keyMatch = -1
            state = .string
        case UInt8(ascii: "t"): beginLiteral("rue")
        case UInt8(ascii: "f"): beginLiteral("alse")
        case UInt8(ascii: "n"): beginLiteral("ull")
        case UInt8(ascii: "-"): state = .minus
        case UInt8(ascii: "0"): state = .zero
        case UInt8(ascii: "1")...UInt8(ascii: "9"): state = .integer
        default: state = .failed
        }
    }

    private mutating func beginLiteral(_ rest: StaticString) {
        literalRest = 0
        for offset in (0..<rest.utf8CodeUnitCount).reversed() {
            literalRest = literalRest << 8 | UInt32(rest.utf8Start[offset])
        }
        literalCount = UInt8(rest.utf8CodeUnitCount)
        state = .literal
    }

    private var topIsObject: Bool {
        let bit = depth - 1
        let word: UInt64
        switch bit >> 6 {
        case 0: word = kinds.0
        case 1: word = kinds.1
        case 2: word = kinds.2
        default: word = kinds.3
        }
        return word & (1 << UInt64(bit & 63)) != 0
    }

    private mutating func push(object: Bool) {
        let bit = depth
        depth += 1
        let mask: UInt64 = 1 << UInt64(bit & 63)
        switch bit >> 6 {
        case 0: kinds.0 = object ? kinds.0 | mask : kinds.0 & ~mask
        case 1: kinds.1 = object ? kinds.1 | mask : kinds.1 & ~mask
        case 2: kinds.2 = object ? kinds.2 | mask : kinds.2 & ~mask
        default: kinds.3 = object ? kinds.3 | mask : kinds.3 & ~mask
        }
    }

    private mutating func close(_ byte: UInt8) {
        guard topIsObject == (byte == UInt8(ascii: "}")) else { state = .failed; return }
        depth -= 1
        if depth == 0 {
            state = .done
            return
        }
        state = .afterValue
        if capturing && depth == 1 {
            capturing = false
            captureEnded = true
        }
    }

    /// Appends the last captured bytes (through `index`) and parses the `usage` object.
    private mutating func finishCapture(_ buffer: UnsafeBufferPointer<UInt8>, through index: Int) {
        captureEnded = false
        appendCapture(UnsafeBufferPointer(rebasing: buffer[captureStart...index]))
        if captureOverflowed {
            lastUsage = nil
        } else {
            lastUsage = (try? JSONParser.parse(captured)).flatMap { $0.isObject ? $0 : nil }
        }
        captured.removeAll(keepingCapacity: true)
    }

    private mutating func appendCapture(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !captureOverflowed else { return }
        if captured.count + bytes.count > Self.maximumUsageBytes {
            captureOverflowed = true
            captured = []
        } else {
            captured.append(contentsOf: bytes)
        }
    }
}
