/// A listener setting as written by a person: `off`, or an address.
public enum Listener<Address: Sendable & Equatable>: Sendable, Equatable {
    case off
    case on(Address)

    /// The address, or `nil` when off (the form `Settings` keeps).
    public var address: Address? {
        if case .on(let address) = self { return address }
        return nil
    }

    /// Reads `off`, or hands the text to `parseAddress`.
    static func parse(_ text: String, address parseAddress: (String) throws(ConfigError) -> Address) throws(ConfigError) -> Listener {
        text.trimmingWhitespace == "off" ? .off : .on(try parseAddress(text))
    }
}
