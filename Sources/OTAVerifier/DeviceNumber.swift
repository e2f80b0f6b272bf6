/// Numbers in job documents as the FreeRTOS OTA agent reads them: `strtoul(value, &end, 0)` on the raw value
/// text, twin of `Firmware/source/hil_number.c`. So hex (`0x…`) and octal (leading `0`) are accepted, a quoted
/// "1024" works (the search returns it without its quotes), and the value fails unless the whole text is
/// consumed, or when it overflows the device's unsigned long.
public enum DeviceNumber {
    /// The value as the agent stores it (truncated to 32 bits), or nil where the agent reports
    /// `DocParseErrInvalidNumChar`. `unsignedLongBits` is the width of the device's `unsigned long`: 32 on ESP32
    /// and CC3220SF (values from 2^32 are ERANGE), 64 on a 64-bit host (they are truncated instead).
    public static func parseUInt32<C: Collection>(_ text: C, unsignedLongBits: Int = 32) -> UInt32?
    where C.Element == UInt8 {
        precondition((1...64).contains(unsignedLongBits), "unsigned long of \(unsignedLongBits) bits")
        let limit: UInt64 = unsignedLongBits >= 64 ? .max : (UInt64(1) << UInt64(unsignedLongBits)) - 1
        let bytes = Array(text)
        var i = 0

        // C11 7.22.1.4: leading white space (isspace in the C locale), then an optional sign.
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || (0x09...0x0D).contains(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }

        // Base 0: "0x" followed by a hex digit is hex, another leading 0 is octal, anything else decimal.
        var base: UInt64 = 10
        if i < bytes.count, bytes[i] == UInt8(ascii: "0") {
            if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "x") || bytes[i + 1] == UInt8(ascii: "X"),
               digitValue(bytes[i + 2]) < 16 {
                base = 16
                i += 2
            } else {
                base = 8
            }
        }

        // Digits; after an overflow strtoul keeps consuming them, so the end lands after the last one.
        let firstDigit = i
        var value: UInt64 = 0
        var overflow = false
        while i < bytes.count, digitValue(bytes[i]) < base {
            let digit = digitValue(bytes[i])
            if !overflow {
                if value > (limit &- digit) / base {
                    overflow = true
                } else {
                    value = value * base + digit
                }
            }
            i += 1
        }

        // No digits at all: strtoul's end is the start of the text, so nothing was consumed.
        let end = i == firstDigit ? 0 : i
        guard !overflow, end == bytes.count else { return nil }
        if negative {
            value = (~value &+ 1) & limit  // strtoul negates the magnitude in unsigned long arithmetic
        }
        return UInt32(truncatingIfNeeded: value)
    }

    /// A digit's value in bases up to 36; 99 for anything else.
    private static func digitValue(_ byte: UInt8) -> UInt64 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt64(byte - UInt8(ascii: "A") + 10)
        default: 99
        }
    }
}
