import Crypto
import CryptoExtras
import Foundation
import SignerAPI
import SwiftASN1
import Testing
import X509
@testable import CodeSigning

@Suite("Signing per platform")
struct SigningTests {
    /// Every platform with every key type it allows.
    static let cases: [(String, SigningKey.Spec, SignatureAlgorithm)] = [
        ("AmazonFreeRTOS-Default", .ecP256, .sha256WithECDSA),
        ("AmazonFreeRTOS-Default", .rsa2048, .sha256WithRSA),
        ("AmazonFreeRTOS-Default", .rsa3072, .sha256WithRSA),
        ("AmazonFreeRTOS-Default", .rsa4096, .sha256WithRSA),
        ("AmazonFreeRTOS-TI-CC3220SF", .rsa2048, .insecureSHA1WithRSA),
        ("AmazonFreeRTOS-TI-CC3220SF", .rsa3072, .insecureSHA1WithRSA),
        ("AmazonFreeRTOS-TI-CC3220SF", .rsa4096, .insecureSHA1WithRSA),
        ("AWSIoTDeviceManagement-SHA256-ECDSA", .ecP256, .sha256WithECDSA),
        ("AWSLambda-SHA384-ECDSA", .ecP384, .sha384WithECDSA),
        ("Notation-OCI-SHA384-ECDSA", .ecP384, .sha384WithECDSA),
    ]

    @Test("signs with the platform's algorithm, and the signature verifies only over the exact payload", arguments: cases)
    func signsAndVerifies(platformId: String, spec: SigningKey.Spec, expected: SignatureAlgorithm) throws {
        let key = try SigningKey.generate(spec)
        let issued = try Fixture.certificate(for: key)
        let plan = try SigningPlan.resolve(platform: Fixture.platform(platformId), key: key)
        #expect(plan.algorithm == expected)
        let payload = Fixture.payload()
        let location = S3Source(bucketName: "fw", key: "app.bin", version: "v1")
        let signed = try plan.sign(payload, with: key, payloadLocation: location)
        #expect(signed.signatureAlgorithm == expected.rawValue)
        #expect(signed.rawPayloadSize == payload.count)
        #expect(expected.isValidSignature(signed.signature, for: payload, certificate: issued.certificate))
        var flipped = payload
        flipped[100] ^= 0x01
        #expect(!expected.isValidSignature(signed.signature, for: flipped, certificate: issued.certificate))
        if case .rsa(let rsa) = key {
            #expect(signed.signature.count == rsa.keySizeInBits / 8, "RSA signatures are exactly the modulus length")
        } else {
            #expect(signed.signature.first == 0x30, "ECDSA signatures are DER SEQUENCE{r,s}")
        }
    }

    @Test("writes RSA PKCS#1 v1.5 signatures deterministically (the same bytes openssl dgst -sign makes)")
    func rsaIsDeterministic() throws {
        let key = try SigningKey.generate(.rsa2048)
        let payload = Fixture.payload()
        let first = try key.signature(for: payload, algorithm: .insecureSHA1WithRSA)
        let second = try key.signature(for: payload, algorithm: .insecureSHA1WithRSA)
        #expect(first == second)
    }

    @Test("uses the platform default without a key, and the key's algorithm where the platform allows it")
    func resolvesEncryptionFromKey() throws {
        let platform = Fixture.platform("AmazonFreeRTOS-Default")
        #expect(try SigningPlan.resolve(platform: platform).algorithm == .sha256WithECDSA)
        let rsa = try SigningKey.generate(.rsa2048)
        #expect(try SigningPlan.resolve(platform: platform, key: rsa).algorithm == .sha256WithRSA)
        let overridden = SigningPlatformOverrides(signingConfiguration: .init(encryptionAlgorithm: .ecdsa))
        let conflict = #expect(throws: CodeSigningError.self) { try SigningPlan.resolve(platform: platform, overrides: overridden, key: rsa) }
        #expect(conflict?.code == .algorithmNotAllowed)
    }

    @Test("refuses an RSA key on an ECDSA-only platform, naming the platform and the fix")
    func refusesRSAOnECDSAPlatform() throws {
        let key = try SigningKey.generate(.rsa2048)
        let error = try #require(throws: CodeSigningError.self) {
            try SigningPlan.resolve(platform: Fixture.platform("AWSIoTDeviceManagement-SHA256-ECDSA"), key: key)
        }
        #expect(error.code == .algorithmNotAllowed)
        #expect(error.message.contains("AWSIoTDeviceManagement-SHA256-ECDSA"))
        #expect(error.message.contains("ECDSA"))
    }

    @Test("refuses an ECDSA key on CC3220SF")
    func refusesECDSAOnCC3220() throws {
        let key = try SigningKey.generate(.ecP256)
        let error = try #require(throws: CodeSigningError.self) {
            try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-TI-CC3220SF"), key: key)
        }
        #expect(error.message == "an ECDSA P-256 key cannot sign for AmazonFreeRTOS-TI-CC3220SF, which signs SHA1withRSA; use a key of type RSA instead")
    }

    @Test("refuses SHA-1 on a platform that does not allow it")
    func refusesSHA1Override() {
        let overrides = SigningPlatformOverrides(signingConfiguration: .init(hashAlgorithm: .sha1))
        let error = #expect(throws: CodeSigningError.self) {
            try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-Default"), overrides: overrides)
        }
        #expect(error?.message == "AmazonFreeRTOS-Default does not allow hash algorithm SHA1; allowed: SHA256")
    }

    @Test("refuses a P-384 key on a SHA-256 platform, and a P-256 key on a SHA-384 platform")
    func refusesCurveHashMismatch() throws {
        let p384 = try SigningKey.generate(.ecP384)
        let sha256 = #expect(throws: CodeSigningError.self) { try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-Default"), key: p384) }
        #expect(sha256?.code == .algorithmNotAllowed && sha256?.message.contains("use an ECDSA P-256 key") == true)
        let p256 = try SigningKey.generate(.ecP256)
        let sha384 = #expect(throws: CodeSigningError.self) { try SigningPlan.resolve(platform: Fixture.platform("AWSLambda-SHA384-ECDSA"), key: p256) }
        #expect(sha384?.code == .algorithmNotAllowed && sha384?.message.contains("use an ECDSA P-384 key") == true)
    }

    @Test("refuses a format the platform does not support")
    func refusesFormat() {
        let overrides = SigningPlatformOverrides(signingImageFormat: .jsonDetached)
        let error = #expect(throws: CodeSigningError.self) {
            try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-TI-CC3220SF"), overrides: overrides)
        }
        #expect(error?.code == .formatNotAllowed)
    }

    @Test("refuses a payload above maxSizeInMB and an empty one, and accepts exactly the limit")
    func refusesPayloadSizes() throws {
        let plan = try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-Default"))
        try plan.check(payloadSize: 16 * 1_048_576)
        let tooLarge = #expect(throws: CodeSigningError.self) { try plan.check(payloadSize: 16 * 1_048_576 + 1) }
        #expect(tooLarge?.code == .payloadTooLarge)
        #expect(tooLarge?.message.contains("at most 16 MiB") == true)
        let empty = #expect(throws: CodeSigningError.self) { try plan.check(payloadSize: 0) }
        #expect(empty?.code == .emptyPayload)
    }

    @Test("needs a payload location for JSONDetached")
    func detachedNeedsLocation() throws {
        let key = try SigningKey.generate(.ecP256)
        let plan = try SigningPlan.resolve(platform: Fixture.platform("AWSIoTDeviceManagement-SHA256-ECDSA"), key: key)
        let error = #expect(throws: CodeSigningError.self) { try plan.sign(Fixture.payload(), with: key) }
        #expect(error?.code == .missingPayloadLocation)
    }

    @Test("names job-document keys as AWS IoT derives them", arguments: [
        (SignatureAlgorithm.sha256WithECDSA, "sig-sha256-ecdsa"), (.insecureSHA1WithRSA, "sig-sha1-rsa"),
        (.sha256WithRSA, "sig-sha256-rsa"), (.sha384WithECDSA, "sig-sha384-ecdsa"),
    ])
    func jobDocumentKeys(algorithm: SignatureAlgorithm, key: String) {
        #expect(algorithm.jobDocumentSignatureKey == key)
    }
}

@Suite("The public FreeRTOS OTA PAL vectors")
struct FreeRTOSVectorTests {
    struct Vectors: Decodable {
        struct Message: Decodable { var hex: String }
        struct Signature: Decodable { var hex: String }
        struct Vector: Decodable {
            var id: String
            var hash: String
            var signer_cert_pem_file: String
            var valid_signature: Signature
            var invalid_signature: Signature
        }
        var message: Message
        var vectors: [Vector]
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    @Test("valid signatures verify and invalid ones do not, under the vector's algorithm")
    func palVectors() throws {
        let vectors = try JSONDecoder().decode(Vectors.self, from: Fixture.data("ota_pal_signature_vectors.json"))
        let message = Self.bytes(hex: vectors.message.hex)
        #expect(message.count == 84)
        #expect(vectors.vectors.count == 3)
        for vector in vectors.vectors {
            let pem = String(decoding: try Fixture.data(vector.signer_cert_pem_file), as: UTF8.self)
            let certificate = try Certificate(pemEncoded: pem)
            let algorithm: SignatureAlgorithm = switch vector.id {
            case "lit-ecdsa_sha256": .sha256WithECDSA
            case "lit-rsa_sha1": .insecureSHA1WithRSA
            default: .sha256WithRSA
            }
            #expect(algorithm.isValidSignature(Self.bytes(hex: vector.valid_signature.hex), for: message, certificate: certificate), "\(vector.id) valid")
            #expect(!algorithm.isValidSignature(Self.bytes(hex: vector.invalid_signature.hex), for: message, certificate: certificate), "\(vector.id) invalid")
        }
    }

    @Test("the agent's payload.bin signature passes with SHA-256 and fails with SHA-1")
    func laserPayload() throws {
        struct Laser: Decodable { var signature_base64: String; var cert_pem_file: String }
        let laser = try JSONDecoder().decode(Laser.self, from: Fixture.data("afr_agent_laser_rsa_sha256.json"))
        let payload = try Fixture.data("payload.bin")
        #expect(payload.count == 90860)
        let certificate = try Certificate(pemEncoded: String(decoding: try Fixture.data(laser.cert_pem_file), as: UTF8.self))
        let signature = try #require(Data(base64Encoded: laser.signature_base64))
        #expect(SignatureAlgorithm.sha256WithRSA.isValidSignature(Array(signature), for: payload, certificate: certificate))
        #expect(!SignatureAlgorithm.insecureSHA1WithRSA.isValidSignature(Array(signature), for: payload, certificate: certificate))
    }
}
