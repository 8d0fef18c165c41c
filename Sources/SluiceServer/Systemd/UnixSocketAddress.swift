#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A `sockaddr_un` for a path or an abstract name, as systemd writes them in
/// `NOTIFY_SOCKET`: a leading `/` is a file system path, a leading `@` an
/// abstract name (the `@` becomes a NUL byte on the wire).
struct UnixSocketAddress: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case path
        case abstract
    }

    struct InvalidAddress: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { "invalid unix socket address: \(reason)" }
    }

    let kind: Kind
    /// The bytes of `sun_path`: the path (without terminator), or NUL and the abstract name.
    private let pathBytes: [UInt8]

    /// Room in `sun_path` (108 bytes on Linux).
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    init(_ text: String) throws(InvalidAddress) {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else {
            throw InvalidAddress(reason: "empty")
        }
        guard !bytes.dropFirst().contains(0) else {
            throw InvalidAddress(reason: "contains a NUL byte")
        }
        switch first {
        case UInt8(ascii: "/"):
            // A path needs its NUL terminator inside sun_path.
            guard bytes.count < Self.capacity else {
                throw InvalidAddress(reason: "path longer than \(Self.capacity - 1) bytes")
            }
            self.kind = .path
            self.pathBytes = bytes
        case UInt8(ascii: "@"):
            guard bytes.count > 1 else {
                throw InvalidAddress(reason: "abstract name is empty")
            }
            guard bytes.count <= Self.capacity else {
                throw InvalidAddress(reason: "abstract name longer than \(Self.capacity - 1) bytes")
            }
            self.kind = .abstract
            self.pathBytes = [0] + bytes.dropFirst()
        default:
            throw InvalidAddress(reason: "neither an absolute path nor an @abstract name")
        }
    }

    /// Calls `body` with the address as a `sockaddr` and its exact length.
    ///
    /// An abstract address is counted without a terminator: the kernel takes every
    /// byte of the given length as part of the name.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let terminator = kind == .path ? 1 : 0
        let length = socklen_t(pathOffset + pathBytes.count + terminator)
        return try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }
}
