import Crypto

extension Insecure {
    /// The MD5 of `bytes` as lower-case hex, as SPI_FLASH_MD5 reports it.
    public static func md5Hex(_ bytes: [UInt8]) -> String {
        MD5.hash(data: bytes).map { hexByte($0) }.joined()
    }
}

/// Two lower-case hex digits.
func hexByte(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}
