/// Fixed-point decimal text without Foundation formatters: `0.0125`, `1500`, `-3.5`.
enum DecimalText {
    /// `value` rounded to `places` decimals, trailing zeros dropped; `0` for non-finite values.
    static func plain(_ value: Double, places: Int) -> String {
        trimmed(fixed(value, places: places))
    }

    /// `value` rounded to exactly `places` decimals: `fixed(2.5, places: 2)` is `2.50`.
    static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(Int(value.rounded())) }
        let units = Int(scaled)
        let divisor = Int(scale)
        let whole = String(units / divisor)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return sign + whole }
        let fraction = String(units % divisor)
        return sign + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// Thousands separated by commas: `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.last == "0" { result.removeLast() }
        if result.last == "." { result.removeLast() }
        return String(result)
    }
}
