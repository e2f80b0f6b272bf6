import Crypto
import Foundation
import SignerAPI

/// An incremental hash of a payload, so a signer can stream a file in chunks with constant memory.
public struct PayloadHasher: Sendable {
    private enum State: Sendable {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
        case sha384(SHA384)
    }

    private var state: State
    public private(set) var byteCount = 0

    public init(_ hash: HashAlgorithm) {
        switch hash {
        case .sha1: state = .sha1(Insecure.SHA1())
        case .sha256: state = .sha256(SHA256())
        case .sha384: state = .sha384(SHA384())
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        byteCount += bytes.count
        switch state {
        case .sha1(var hasher): hasher.update(bufferPointer: bytes); state = .sha1(hasher)
        case .sha256(var hasher): hasher.update(bufferPointer: bytes); state = .sha256(hasher)
        case .sha384(var hasher): hasher.update(bufferPointer: bytes); state = .sha384(hasher)
        }
    }

    public mutating func update(_ bytes: some DataProtocol) {
        for region in bytes.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    public func finalize() -> PayloadDigest {
        switch state {
        case .sha1(let hasher): .sha1(hasher.finalize())
        case .sha256(let hasher): .sha256(hasher.finalize())
        case .sha384(let hasher): .sha384(hasher.finalize())
        }
    }
}

/// The digest of a payload under one of the signing hashes.
public enum PayloadDigest: Sendable, Equatable {
    case sha1(Insecure.SHA1Digest)
    case sha256(SHA256Digest)
    case sha384(SHA384Digest)

    public var hash: HashAlgorithm {
        switch self {
        case .sha1: .sha1
        case .sha256: .sha256
        case .sha384: .sha384
        }
    }

    /// The digest in lower-case hex, for messages and `explain`.
    public var hex: String {
        let bytes: [UInt8] = switch self {
        case .sha1(let d): Array(d)
        case .sha256(let d): Array(d)
        case .sha384(let d): Array(d)
        }
        return HexEncoding.lowercase(bytes)
    }

    /// The digest of `payload` in one call.
    public static func of(_ payload: some DataProtocol, hash: HashAlgorithm) -> PayloadDigest {
        var hasher = PayloadHasher(hash)
        hasher.update(payload)
        return hasher.finalize()
    }
}

/// Standard base64 (RFC 4648 §4, with padding), streamed: feed chunks of any size, get the same text as encoding
/// the whole input at once.
public struct Base64Encoder: Sendable {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var carry: [UInt8] = []

    public init() {}

    /// The number of base64 characters for `count` input bytes.
    public static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes `input` after any bytes carried from the previous chunk; carries the last 1–2 bytes of a chunk whose
    /// length is not a multiple of three.
    public mutating func encode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        var bytes = input[...]
        if !carry.isEmpty {
            while carry.count < 3, let first = bytes.first {
                carry.append(first)
                bytes = bytes.dropFirst()
            }
            guard carry.count == 3 else { return }
            carry.withUnsafeBytes { Self.encodeTriples($0[...], into: &output) }
            carry.removeAll(keepingCapacity: true)
        }
        let whole = bytes.count / 3 * 3
        Self.encodeTriples(bytes.prefix(whole), into: &output)
        carry.append(contentsOf: bytes.dropFirst(whole))
    }

    /// Writes the carried bytes with padding.
    public mutating func finish(into output: inout [UInt8]) {
        let alphabet = Self.alphabet
        switch carry.count {
        case 1:
            output += [alphabet[Int(carry[0] >> 2)], alphabet[Int((carry[0] & 0x03) << 4)], UInt8(ascii: "="), UInt8(ascii: "=")]
        case 2:
            output += [alphabet[Int(carry[0] >> 2)], alphabet[Int((carry[0] & 0x03) << 4 | carry[1] >> 4)],
                       alphabet[Int((carry[1] & 0x0f) << 2)], UInt8(ascii: "=")]
        default:
            break
        }
        carry.removeAll()
    }

    private static func encodeTriples(_ input: Slice<UnsafeRawBufferPointer>, into output: inout [UInt8]) {
        let triples = input.count / 3
        guard triples > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: triples * 4))
        alphabet.withUnsafeBufferPointer { table in
            output.withUnsafeMutableBufferPointer { out in
                let source = UnsafeRawBufferPointer(rebasing: input)
                var o = start
                var i = 0
                for _ in 0..<triples {
                    let value = UInt32(source[i]) << 16 | UInt32(source[i + 1]) << 8 | UInt32(source[i + 2])
                    out[o] = table[Int(value >> 18)]
                    out[o + 1] = table[Int((value >> 12) & 0x3f)]
                    out[o + 2] = table[Int((value >> 6) & 0x3f)]
                    out[o + 3] = table[Int(value & 0x3f)]
                    i += 3
                    o += 4
                }
            }
        }
    }
}
