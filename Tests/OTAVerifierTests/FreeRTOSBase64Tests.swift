import Testing
@testable import OTAVerifier

/// The vectors of Firmware/test/test_hil_base64.c: the 22 strings of the OTA library's ota_base64_utest.c
/// (@477ee9a5) and the derived edge cases, with that provenance.
struct FreeRTOSBase64Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let encoded: String
        let expected: FreeRTOSBase64.Status
        let decoded: String?
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "TWO_PADDING", encoded: "Rk9PQg==", expected: .success, decoded: "FOOB"),
        Vector(name: "ONE_PADDING", encoded: "Rk9PQkE=", expected: .success, decoded: "FOOBA"),
        Vector(name: "ZERO_PADDING", encoded: "Rk9PQkFS", expected: .success, decoded: "FOOBAR"),
        Vector(name: "TWO_PADDING_REMOVED", encoded: "Rk9PQg", expected: .success, decoded: "FOOB"),
        Vector(name: "ONE_PADDING_REMOVED", encoded: "Rk9PQkE", expected: .success, decoded: "FOOBA"),
        Vector(name: "LF", encoded: "\nZm\n9v\n", expected: .success, decoded: "foo"),
        Vector(name: "CRLF", encoded: "\r\nRk9P\r\nQkE=\r\n", expected: .success, decoded: "FOOBA"),
        Vector(name: "WHITESPACE", encoded: "Rk9PQkFS ", expected: .success, decoded: "FOOBAR"),
        Vector(name: "PADDING_WHITESPACE", encoded: "Rk9PQkE= ", expected: .success, decoded: "FOOBA"),
        Vector(name: "NINE", encoded: "Rk9PQkFSQkFa", expected: .success, decoded: "FOOBARBAZ"),
        Vector(name: "THREE_PADDING_1", encoded: "Zg===", expected: .invalidPaddingSymbol, decoded: nil),
        Vector(name: "THREE_PADDING_2", encoded: "Rk9PQkE===", expected: .invalidPaddingSymbol, decoded: nil),
        Vector(name: "THREE_PADDING_3", encoded: "Rk9PQkFS===", expected: .invalidPaddingSymbol, decoded: nil),
        Vector(name: "NONZERO_PADDING_1", encoded: "TWG=", expected: .nonZeroPadding, decoded: nil),
        Vector(name: "NONZERO_PADDING_2", encoded: "Tf==", expected: .nonZeroPadding, decoded: nil),
        Vector(name: "LEADING_SPACE", encoded: " Rk9PQkFS", expected: .invalidSymbolOrdering, decoded: nil),
        Vector(name: "MIDDLE_SPACE", encoded: "Rk9P QkFS", expected: .invalidSymbolOrdering, decoded: nil),
        Vector(name: "SPACE_BEFORE_PAD", encoded: "Rk9PQkE =", expected: .invalidSymbolOrdering, decoded: nil),
        Vector(name: "ONE_CHAR", encoded: "R", expected: .invalidInputSize, decoded: nil),
        Vector(name: "ONE_LEFTOVER_SEXTET", encoded: "Rk9PC==", expected: .invalidInputSize, decoded: nil),
        Vector(name: "LEADING_PAD", encoded: "=Rk9PQkFS", expected: .invalidSymbolOrdering, decoded: nil),
        Vector(name: "MIDDLE_PAD", encoded: "Rk9P=QkFS", expected: .invalidSymbolOrdering, decoded: nil),
        // Derived edge cases.
        Vector(name: "SHORT_PAD_ACCEPTED", encoded: "QQ=", expected: .success, decoded: "A"),
        Vector(name: "PAD_AFTER_QUANTUM", encoded: "QUJD=", expected: .success, decoded: "ABC"),
        Vector(name: "TWO_PADS_AFTER_QUANTUM", encoded: "QUJD==", expected: .success, decoded: "ABC"),
        Vector(name: "ONLY_PADDING", encoded: "==", expected: .success, decoded: ""),
        Vector(name: "ONLY_SPACES", encoded: "  ", expected: .success, decoded: ""),
        Vector(name: "ONE_SPACE", encoded: " ", expected: .invalidInputSize, decoded: nil),
        Vector(name: "JSON_ESCAPED_N", encoded: "Zm9v\\n", expected: .invalidSymbol, decoded: nil),
        Vector(name: "JSON_ESCAPED_SLASH", encoded: "Zm9v\\/", expected: .invalidSymbol, decoded: nil),
        Vector(name: "TAB", encoded: "Zm9v\t", expected: .invalidSymbol, decoded: nil),
        Vector(name: "SPACE_THEN_DATA", encoded: "QUJD QUJD", expected: .invalidSymbolOrdering, decoded: nil),
        Vector(name: "CRLF_INSIDE", encoded: "Zm9v\r\nYmFy", expected: .success, decoded: "foobar"),
        Vector(name: "URL_ALPHABET", encoded: "Zm-_", expected: .invalidSymbol, decoded: nil),
    ]

    @Test("Each base64 vector of the OTA library decodes or fails as the library does", arguments: vectors)
    func vector(_ vector: Vector) {
        let result = FreeRTOSBase64.decode(Array(vector.encoded.utf8), capacity: 384)
        switch result {
        case .success(let bytes):
            #expect(vector.expected == .success)
            if let decoded = vector.decoded { #expect(bytes == Array(decoded.utf8)) }
        case .failure(let status):
            #expect(status == vector.expected)
        }
    }

    @Test("A decode that would overflow the 384-byte signature buffer fails with invalidBufferSize") func bufferLimit() {
        let a516 = [UInt8](repeating: UInt8(ascii: "A"), count: 516)
        // 516 'A's decode to 387 bytes: over kOTA_MaxSignatureSize (384).
        #expect(FreeRTOSBase64.decode(a516, capacity: 384) == .failure(.invalidBufferSize))
        // 512 decode to exactly 384.
        #expect(FreeRTOSBase64.decode(a516.prefix(512), capacity: 384).map(\.count) == .success(384))
        // A 2-byte tail that does not fit.
        #expect(FreeRTOSBase64.decode(Array("QUI=".utf8), capacity: 1) == .failure(.invalidBufferSize))
    }

    @Test("The library's unit-test signature decodes to a 70-byte DER ECDSA signature") func signatureFromAJobDocument() throws {
        // The signature of the library's unit-test job documents: a 70-byte DER ECDSA signature.
        let signature = "MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg=="
        let bytes = try FreeRTOSBase64.decode(Array(signature.utf8), capacity: 384).get()
        #expect(bytes.count == 70)
        #expect(bytes.prefix(2) == [0x30, 0x44])
    }

    @Test("A failed decode has already written its whole quanta, and a tail only on success") func failedDecodeHasWrittenItsWholeQuanta() {
        // The agent decodes into its signature buffer as it goes: "QUJD" reached the buffer before '-' failed.
        let run = FreeRTOSBase64.decodeWritingAsItGoes(Array("QUJDRk9P-".utf8), capacity: 384)
        #expect(run.status == .invalidSymbol)
        #expect(run.written == Array("ABCFOO".utf8))
        // A tail is written only on success.
        let tail = FreeRTOSBase64.decodeWritingAsItGoes(Array("QUJDTWG=".utf8), capacity: 384)
        #expect(tail.status == .nonZeroPadding)
        #expect(tail.written == Array("ABC".utf8))
    }

    @Test("Statuses carry the FreeRTOS base64 numbers and names") func statusNumberingAndNames() {
        #expect(FreeRTOSBase64.Status.allCases.map(\.rawValue) == Array(0...7))
        #expect(FreeRTOSBase64.Status.invalidSymbol.freeRTOSName == "Base64InvalidSymbol")
        #expect(FreeRTOSBase64.Status.invalidPaddingSymbol.freeRTOSName == "Base64InvalidPaddingSymbol")
    }
}
