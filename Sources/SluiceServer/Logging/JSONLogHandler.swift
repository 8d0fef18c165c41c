import Logging
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes one JSON object per line to stderr (for `--log-format json`):
/// `{"time","level","label","message",...metadata}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var members = [
            JSONMember(name: "time", value: .string(Self.timestamp())),
            JSONMember(name: "level", value: .string(event.level.rawValue)),
            JSONMember(name: "label", value: .string(label)),
            JSONMember(name: "message", value: .string(event.message.description)),
        ]
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message"].contains(key) {
            members.append(JSONMember(name: key, value: .string(value.description)))
        }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        // Member order as written above: time first reads best in a terminal.
        line.append(UInt8(ascii: "{"))
        for (position, member) in members.enumerated() {
            if position > 0 { line.append(UInt8(ascii: ",")) }
            CanonicalJSON.write(.string(member.name), into: &line)
            line.append(UInt8(ascii: ":"))
            CanonicalJSON.write(member.value, into: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        line.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// UTC time as `2026-11-26T05:02:29.123Z`.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(spec.tv_nsec / 1_000_000), 3))Z"
    }
}
