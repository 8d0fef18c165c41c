/// The canonical text of a JSON value: object members sorted by name (UTF-8 byte
/// order, the last of repeated names kept), no insignificant whitespace, strings
/// minimally escaped, numbers exactly as written.
///
/// Two bodies that differ only in member order or whitespace have the same
/// canonical form, and so the same cache key.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let literal): output.append(contentsOf: literal.utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in sortedUniqueMembers(members).enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.name, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Members sorted by the UTF-8 bytes of their names; of repeated names, the last wins.
    ///
    /// Names are compared as bytes, not as Swift strings: `String` equality merges
    /// canonically equivalent names (precomposed and decomposed "é"), which JSON
    /// keeps apart, and two different bodies would then share a cache key.
    static func sortedUniqueMembers(_ members: [JSONMember]) -> [JSONMember] {
        var lastIndexByName: [[UInt8]: Int] = [:]
        for (position, member) in members.enumerated() { lastIndexByName[Array(member.name.utf8)] = position }
        let unique = members.enumerated().filter { lastIndexByName[Array($0.element.name.utf8)] == $0.offset }.map(\.element)
        return unique.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
