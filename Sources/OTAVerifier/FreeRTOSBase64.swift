/// Base64 decoding with the FreeRTOS OTA agent's rules (`ota_base64.c`, the decoder of the job document's
/// signature), twin of `Firmware/source/hil_base64.c`:
/// - the standard alphabet only (`-`, `_`, TAB and `\` are invalid symbols; JSON escapes are never undone);
/// - CR and LF are ignored anywhere;
/// - spaces only at the end: data or `=` after a space is an ordering error, so is a leading space;
/// - at most two `=`, only at the end; padding is optional and its count is not checked against the length;
/// - non-zero leftover bits are refused, one leftover sextet or an input under 2 bytes is a size error.
public enum FreeRTOSBase64 {
    /// The agent's `Base64Status_t`, with its numbering.
    public enum Status: Int, Sendable, Error, CaseIterable {
        case success = 0
        case invalidSymbol
        case invalidSymbolOrdering
        case invalidInputSize
        case nullPointerInput
        case invalidBufferSize
        case nonZeroPadding
        case invalidPaddingSymbol

        /// The name as the agent's enum spells it ("Base64InvalidSymbol").
        public var freeRTOSName: String {
            switch self {
            case .success: "Base64Success"
            case .invalidSymbol: "Base64InvalidSymbol"
            case .invalidSymbolOrdering: "Base64InvalidSymbolOrdering"
            case .invalidInputSize: "Base64InvalidInputSize"
            case .nullPointerInput: "Base64NullPointerInput"
            case .invalidBufferSize: "Base64InvalidBufferSize"
            case .nonZeroPadding: "Base64NonZeroPadding"
            case .invalidPaddingSymbol: "Base64InvalidPaddingSymbol"
            }
        }
    }

    /// Decodes `input` into at most `capacity` bytes. `.nullPointerInput` cannot happen in Swift; the case is
    /// kept for the agent's numbering.
    public static func decode<C: Collection>(_ input: C, capacity: Int) -> Result<[UInt8], Status>
    where C.Element == UInt8 {
        let run = decodeWritingAsItGoes(input, capacity: capacity)
        return run.status == .success ? .success(run.written) : .failure(run.status)
    }

    /// Where the agent's decoder stopped and which rule it applied, in words: for `otarig explain`.
    public static func diagnose<C: Collection>(_ input: C, capacity: Int) -> (status: Status, offset: Int?, rule: String)
    where C.Element == UInt8 {
        let symbols = Array(input)
        if symbols.count < 2 {
            return (.invalidInputSize, nil, "the value has \(symbols.count) characters; the agent needs at least 2")
        }
        var decoder = Decoder(capacity: max(0, capacity))
        for (offset, symbol) in symbols.enumerated() {
            decoder.consume(symbol)
            guard decoder.status == .success else {
                let shown = symbol >= 0x20 && symbol < 0x7F ? "'\(Character(UnicodeScalar(symbol)))'" : "byte 0x" + String(symbol, radix: 16)
                let rule: String
                switch decoder.status {
                case .invalidSymbol:
                    rule = "\(shown) at offset \(offset) is not a base64 symbol (A-Z a-z 0-9 + /); the agent skips only CR, LF and spaces, and does not undo JSON escapes such as \\/"
                case .invalidSymbolOrdering:
                    rule = "\(shown) at offset \(offset) comes after a space or '=' padding; the agent allows those only at the end"
                case .invalidPaddingSymbol:
                    rule = "a third '=' at offset \(offset); base64 ends with at most two"
                case .invalidBufferSize:
                    rule = "the value decodes to more than \(capacity) bytes, the agent's signature buffer (OTA_MAX_SIGNATURE_SIZE), at offset \(offset)"
                default:
                    rule = "\(decoder.status.freeRTOSName) at offset \(offset)"
                }
                return (decoder.status, offset, rule)
            }
        }
        decoder.finish()
        switch decoder.status {
        case .success:
            return (.success, nil, "decodes to \(decoder.written.count) bytes")
        case .invalidInputSize:
            return (.invalidInputSize, symbols.count, "one symbol is left over after the last whole group of four (6 bits cannot make a byte)")
        case .nonZeroPadding:
            return (.nonZeroPadding, symbols.count, "the last symbol's unused low bits are not zero (a non-canonical ending, as in 'QR==' for 'QQ==')")
        case .invalidBufferSize:
            return (.invalidBufferSize, symbols.count, "the value decodes to more than \(capacity) bytes, the agent's signature buffer (OTA_MAX_SIGNATURE_SIZE)")
        default:
            return (decoder.status, symbols.count, decoder.status.freeRTOSName)
        }
    }

    /// The decoder as the agent runs it on its signature buffer: every whole quantum is written to the
    /// destination as soon as it is decoded, so a decode that fails later has still overwritten the start of the
    /// buffer. `written` is what reached the destination, whatever the status.
    static func decodeWritingAsItGoes<C: Collection>(_ input: C, capacity: Int) -> (status: Status, written: [UInt8])
    where C.Element == UInt8 {
        if input.count < 2 {
            return (.invalidInputSize, [])
        }
        var decoder = Decoder(capacity: max(0, capacity))
        for symbol in input where decoder.status == .success {
            decoder.consume(symbol)
        }
        if decoder.status == .success {
            decoder.finish()
        }
        return (decoder.status, decoder.written)
    }

    /// The decoder's state between symbols.
    private struct Decoder {
        let capacity: Int
        var status = Status.success
        var written: [UInt8] = []
        var quantum: UInt32 = 0  // up to four sextets, most significant first
        var sextets = 0
        var padding = 0
        var sawSpace = false

        init(capacity: Int) {
            self.capacity = capacity
        }

        mutating func consume(_ symbol: UInt8) {
            switch symbol {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return  // ignored anywhere
            case UInt8(ascii: " "):
                sawSpace = true
            case UInt8(ascii: "="):
                if sawSpace {
                    status = .invalidSymbolOrdering
                } else {
                    padding += 1
                    if padding > 2 { status = .invalidPaddingSymbol }
                }
            default:
                guard let value = FreeRTOSBase64.sextet(symbol) else {
                    status = .invalidSymbol
                    return
                }
                if sawSpace || padding != 0 {
                    status = .invalidSymbolOrdering
                    return
                }
                quantum = (quantum << 6) | UInt32(value)
                sextets += 1
                if sextets == 4 { flushQuantum() }
            }
        }

        /// Four sextets make three bytes, if they fit.
        private mutating func flushQuantum() {
            guard capacity - written.count >= 3 else {
                status = .invalidBufferSize
                return
            }
            written.append(UInt8(truncatingIfNeeded: quantum >> 16))
            written.append(UInt8(truncatingIfNeeded: quantum >> 8))
            written.append(UInt8(truncatingIfNeeded: quantum))
            quantum = 0
            sextets = 0
        }

        /// The leftover sextets: 12 bits give one byte (low 4 bits zero), 18 bits two bytes (low 2 bits zero).
        mutating func finish() {
            switch sextets {
            case 1:
                status = .invalidInputSize
            case 2:
                emitTail(bytes: 1, zeroBitsMask: 0x0F, shifts: [4])
            case 3:
                emitTail(bytes: 2, zeroBitsMask: 0x03, shifts: [10, 2])
            default:
                break  // a whole number of quanta
            }
        }

        private mutating func emitTail(bytes: Int, zeroBitsMask: UInt32, shifts: [UInt32]) {
            if quantum & zeroBitsMask != 0 {
                status = .nonZeroPadding
            } else if capacity - written.count < bytes {
                status = .invalidBufferSize
            } else {
                for shift in shifts { written.append(UInt8(truncatingIfNeeded: quantum >> shift)) }
            }
        }
    }

    /// 0...63 for a symbol of the standard alphabet.
    private static func sextet(_ symbol: UInt8) -> UInt8? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): symbol - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): symbol - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): symbol - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
