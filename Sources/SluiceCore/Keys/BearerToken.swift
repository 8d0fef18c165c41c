/// Reads the token out of an `Authorization: Bearer <token>` header value.
/// The scheme is case-insensitive; other schemes are not accepted.
enum BearerToken: Equatable {
    /// No header, or an empty one.
    case absent
    /// A header that is not `Bearer <token>` (another scheme, no token, spaces inside).
    case malformed
    case token(String)

    init(authorization: String?) {
        let value = (authorization ?? "").trimmingSpaces()
        guard !value.isEmpty else {
            self = .absent
            return
        }
        guard let separator = value.firstIndex(where: \.isSpaceOrTab),
              value[..<separator].lowercased() == "bearer"
        else {
            self = .malformed
            return
        }
        let token = value[separator...].trimmingSpaces()
        guard !token.isEmpty, !token.contains(where: \.isSpaceOrTab) else {
            self = .malformed
            return
        }
        self = .token(String(token))
    }
}

extension Character {
    fileprivate var isSpaceOrTab: Bool { self == " " || self == "\t" }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> SubSequence {
        let start = firstIndex { !$0.isSpaceOrTab } ?? endIndex
        let end = lastIndex { !$0.isSpaceOrTab }.map(index(after:)) ?? start
        return self[start..<end]
    }
}
