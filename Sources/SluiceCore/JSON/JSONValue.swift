/// A parsed JSON document that keeps numbers exactly as written.
///
/// Sluice never re-encodes bodies it forwards; it parses requests only to read a
/// few fields and to build the canonical form used in cache keys, where `1.0`
/// and `1` must stay different requests.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, e.g. `0.70` or `1e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated name keeps its last value when read.
    case object([JSONMember])

    /// The value of the member `name`, when this is an object.
    ///
    /// Names match by their UTF-8 bytes, as JSON compares them (Swift's `==` would
    /// also match a canonically equivalent spelling).
    public subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.name.utf8.elementsEqual(name.utf8) })?.value
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The number as an integer, when it is written as one (or as an integral decimal).
    public var intValue: Int? {
        guard case .number(let literal) = self else { return nil }
        if let whole = Int(literal) { return whole }
        if let real = Double(literal), real.rounded() == real, abs(real) < 9e15 { return Int(real) }
        return nil
    }

    public var doubleValue: Double? {
        guard case .number(let literal) = self else { return nil }
        return Double(literal)
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}

public struct JSONMember: Sendable, Equatable {
    public var name: String
    public var value: JSONValue

    public init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}
