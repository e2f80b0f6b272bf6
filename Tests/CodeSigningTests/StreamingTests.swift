import Crypto
import Foundation
import SignerAPI
import Testing
@testable import CodeSigning

@Suite("Streaming: incremental hashing and base64")
struct StreamingTests {
    @Test("base64 in chunks of any size equals Foundation's base64 of the whole", arguments: [0, 1, 2, 3, 4, 5, 100, 4097])
    func base64Chunked(count: Int) {
        let payload = Fixture.payload(count: count, seed: UInt8(count % 251))
        for chunkSize in [1, 2, 3, 4, 7, 1024] {
            var encoder = Base64Encoder()
            var out: [UInt8] = []
            var offset = 0
            while offset < payload.count {
                let end = min(offset + chunkSize, payload.count)
                payload[offset..<end].withUnsafeBytes { encoder.encode($0, into: &out) }
                offset = end
            }
            encoder.finish(into: &out)
            #expect(String(decoding: out, as: UTF8.self) == payload.base64EncodedString(), "count \(count), chunk \(chunkSize)")
            #expect(out.count == Base64Encoder.encodedLength(count))
        }
    }

    @Test("an incremental digest equals the one-shot digest, and signs the same", arguments: HashAlgorithm.allCases)
    func incrementalDigest(hash: HashAlgorithm) throws {
        let payload = Fixture.payload(count: 10_000)
        var hasher = PayloadHasher(hash)
        for start in stride(from: 0, to: payload.count, by: 333) {
            hasher.update(payload[start..<min(start + 333, payload.count)])
        }
        #expect(hasher.finalize() == PayloadDigest.of(payload, hash: hash))
        #expect(hasher.byteCount == payload.count)
    }

    @Test("a streamed JSONEmbedded object equals the one-shot encoding")
    func streamedObject() throws {
        let key = try SigningKey.generate(.rsa2048)
        let plan = try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-TI-CC3220SF"), key: key)
        let payload = Fixture.payload(count: 5_000)
        let whole = try plan.sign(payload, with: key)
        let signature = try plan.signature(for: PayloadDigest.of(payload, hash: .sha1), payloadSize: payload.count, key: key)
        #expect(signature == whole.signature)
        var out = SignedObjectDocument.embeddedHead(rawPayloadSize: payload.count, signature: signature, signatureAlgorithm: "SHA1withRSA")
        var encoder = Base64Encoder()
        payload.withUnsafeBytes { encoder.encode($0, into: &out) }
        encoder.finish(into: &out)
        out += SignedObjectDocument.embeddedTail
        #expect(Data(out) == whole.encoded())
    }

    @Test("refuses a digest of the wrong hash for the algorithm")
    func wrongDigest() throws {
        let key = try SigningKey.generate(.ecP256)
        let digest = PayloadDigest.of(Fixture.payload(), hash: .sha1)
        let error = #expect(throws: CodeSigningError.self) { try key.signature(forDigest: digest, algorithm: .sha256WithECDSA) }
        #expect(error?.code == .algorithmNotAllowed)
    }
}

