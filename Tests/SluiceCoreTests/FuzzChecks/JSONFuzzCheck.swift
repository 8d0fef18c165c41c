import SluiceCore

/// The checks run on one input by the `FuzzJSON` libFuzzer target
/// (`fuzz/Sources/FuzzJSON`, which links this file) and by `FuzzCorpusTests`.
///
/// Besides "never traps", a body the parser accepts must have a canonical form
/// that is itself accepted, is a fixed point, does not depend on member order,
/// and (for the cache key form) keeps the fields Sluice acts on.
enum JSONFuzzCheck {
    enum Outcome: Equatable, Sendable {
        case rejected
        case accepted
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ bytes: [UInt8]) throws(Failure) -> Outcome {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            guard (0...bytes.count).contains(error.offset) else {
                throw Failure(description: "error offset \(error.offset) outside 0...\(bytes.count): \(error)")
            }
            guard !error.reason.isEmpty else { throw Failure(description: "error without a reason") }
            return .rejected
        }

        let depth = nesting(value)
        guard depth <= JSONParser.maximumDepth else {
            throw Failure(description: "accepted nesting \(depth) > maximumDepth \(JSONParser.maximumDepth)")
        }

        // The same document with whitespace around it is the same document.
        let padded = Array(" \n\t".utf8) + bytes + Array("\r\n ".utf8)
        let canonical = CanonicalJSON.encode(value)
        guard let paddedValue = try? JSONParser.parse(padded), CanonicalJSON.encode(paddedValue) == canonical else {
            throw Failure(description: "surrounding whitespace changed the document")
        }

        // The canonical form is valid JSON and a fixed point.
        let reparsed: JSONValue
        do {
            reparsed = try JSONParser.parse(canonical)
        } catch {
            throw Failure(description: "canonical form is refused (\(error)): \(text(canonical))")
        }
        let again = CanonicalJSON.encode(reparsed)
        guard again == canonical else {
            throw Failure(description: "canonical form is not idempotent: \(text(canonical)) then \(text(again))")
        }

        // Member order does not matter (of repeated names the last counts).
        let shuffled = CanonicalJSON.encode(reversingMembers(value))
        guard shuffled == canonical else {
            throw Failure(description: "member order changed the canonical form: \(text(canonical)) vs \(text(shuffled))")
        }

        // The cache key form: valid, a fixed point, and the same request.
        let keyBytes = CacheableBody.canonicalBytes(of: value)
        let keyValue: JSONValue
        do {
            keyValue = try JSONParser.parse(keyBytes)
        } catch {
            throw Failure(description: "cache key form is refused (\(error)): \(text(keyBytes))")
        }
        let keyAgain = CacheableBody.canonicalBytes(of: keyValue)
        guard keyAgain == keyBytes else {
            throw Failure(description: "cache key form is not idempotent: \(text(keyBytes)) then \(text(keyAgain))")
        }
        let summary = RequestSummary(body: value)
        let keySummary = RequestSummary(body: keyValue)
        guard summary == keySummary, summary.model?.utf8.elementsEqual(keySummary.model?.utf8 ?? "".utf8) ?? (keySummary.model == nil) else {
            throw Failure(description: "cache key form changed the request: \(summary) vs \(keySummary) for \(text(keyBytes))")
        }
        guard CacheableBody.canonicalBytes(of: reversingMembers(value)) == keyBytes else {
            throw Failure(description: "member order changed the cache key form")
        }
        return .accepted
    }

    /// Containers nested in `value`, counting `value` itself.
    static func nesting(_ value: JSONValue) -> Int {
        switch value {
        case .array(let elements): 1 + (elements.map(nesting).max() ?? 0)
        case .object(let members): 1 + (members.map { nesting($0.value) }.max() ?? 0)
        default: 0
        }
    }

    /// `value` with repeated member names dropped (the last kept) and every
    /// object's members in reverse order.
    static func reversingMembers(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(reversingMembers))
        case .object(let members):
            var seen = Set<[UInt8]>()
            var kept: [JSONMember] = []
            for member in members.reversed() where seen.insert(Array(member.name.utf8)).inserted {
                kept.append(JSONMember(name: member.name, value: reversingMembers(member.value)))
            }
            return .object(kept)
        default:
            return value
        }
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(300), as: UTF8.self)
    }
}
