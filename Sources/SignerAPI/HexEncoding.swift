/// Lower-case hex, two digits a byte: ETags, certificate hashes and digests as the signing side prints them. One
/// home for the signer stack (SigV4 keeps its own, depending on nothing but Crypto; the twin keeps its own, being
/// independent of this side). A function, not an extension on every byte sequence, so it leaks into no one's
/// completions.
public enum HexEncoding {
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let digits = Array("0123456789abcdef".utf8)
}
