/// Lower-case hex as FreeRTOS and the evidence print it, and hex text back to bytes.
enum Hex {
    /// At least `digits` digits, zero-padded (`%08x` by default).
    static func word(_ value: UInt32, digits: Int = 8) -> String {
        let text = String(value, radix: 16)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }

    static func byte(_ value: UInt8) -> String { word(UInt32(value), digits: 2) }

    static func string(_ bytes: some Sequence<UInt8>) -> String { bytes.map(byte).joined() }

    /// Pairs of hex digits, either case; nil for an odd count or another character.
    static func bytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
