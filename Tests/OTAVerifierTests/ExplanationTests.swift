import Crypto
import Foundation
import Testing
@testable import OTAVerifier

/// `otarig explain`'s walk: the step where the device stops, the evidence it shows, and the probes that name the cause.
@Suite("Explanation")
struct ExplanationTests {
    struct Vectors {
        var message: [UInt8]
        var ecdsa: [UInt8]
        var ecdsaInvalid: [UInt8]
        var ecdsaCertificate: [UInt8]
        var rsaSHA1: [UInt8]
        var rsaSHA1Certificate: [UInt8]
        var rsaSHA256Certificate: [UInt8]
    }

    static func vectors() throws -> Vectors {
        let doc = try TwinProfileTests.json(TwinProfileTests.fixtures.appendingPathComponent("ota_pal_signature_vectors.json"))
        let message = try TwinProfileTests.bytes(hex: try #require((doc["message"] as? [String: Any])?["hex"] as? String))
        let all = try #require(doc["vectors"] as? [[String: Any]])
        func signature(_ id: String, _ which: String) throws -> [UInt8] {
            let vector = try #require(all.first { $0["id"] as? String == id })
            return try TwinProfileTests.bytes(hex: try #require((vector[which] as? [String: Any])?["hex"] as? String))
        }
        return Vectors(message: message, ecdsa: try signature("lit-ecdsa_sha256", "valid_signature"),
                       ecdsaInvalid: try signature("lit-ecdsa_sha256", "invalid_signature"),
                       ecdsaCertificate: try TwinProfileTests.pem("ecdsa-sha256-signer.crt.pem"),
                       rsaSHA1: try signature("lit-rsa_sha1", "valid_signature"),
                       rsaSHA1Certificate: try TwinProfileTests.pem("rsa-sha1-signer.crt.pem"),
                       rsaSHA256Certificate: try TwinProfileTests.pem("rsa-sha256-signer.crt.pem"))
    }

    static func explain(_ profile: PALProfile = .esp32MbedTLS, key: String = "sig-sha256-ecdsa", signature: [UInt8]? = nil,
                        signatureText: String? = nil, certificate: [UInt8], image: [UInt8], size: Int? = nil,
                        candidates: [CandidateCertificate] = []) -> Explanation {
        let text = signatureText ?? Data(signature ?? []).base64EncodedString()
        let document = Array(#"{"execution":{"jobId":"AFR_OTA-explain","jobDocument":{"afr_ota":{"protocols":["MQTT"],"streamname":"s","files":[{"filesize":\#(size ?? image.count),"fileid":0,"certfile":"signer.crt","\#(key)":"\#(text)"}]}}}}"#.utf8)
        let inputs = DeviceInputs(profile: profile, jobDocument: document, image: Data(image), signatureKey: key) { name in
            name == "signer.crt" ? .found(certificate) : .notFound
        }
        let verdict = DeviceTwin.run(inputs)
        return Explainer.explain(inputs, verdict, signatureText: Explainer.signatureText(in: document, key: key), candidates: candidates)
    }

    static func evidence(_ explanation: Explanation) -> String {
        explanation.steps.flatMap(\.lines).joined(separator: "\n") + "\n" + explanation.probes.joined(separator: "\n")
    }

    @Test("an accepted image: every step ok, the digest and the DER anatomy shown, no probes")
    func accepted() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(signature: v.ecdsa, certificate: v.ecdsaCertificate, image: v.message)
        #expect(explanation.failedStep == nil)
        #expect(explanation.steps.map(\.name) == ["job document", "self test", "protocols", "file create", "receive", "hash",
                                                  "certificate", "signature encoding", "signature check"])
        #expect(explanation.steps.first { $0.name == "self test" }?.result == .skipped)
        let text = Self.evidence(explanation)
        #expect(text.contains("SHA-256 over [0, 84): a06b4732211f3526e61fdd2afe3d51b4a780211cc6b274e1e835a8f200e95f68"))
        #expect(text.contains("strict DER: mbedTLS and OpenSSL both read it"))
        #expect(text.contains("the device does not check dates"))
        #expect(explanation.probes.isEmpty)
    }

    @Test("a wrong signature stops at the signature check, and the probes find nothing that verifies")
    func wrongSignature() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(signature: v.ecdsaInvalid, certificate: v.ecdsaCertificate, image: v.message)
        #expect(explanation.failedStep?.name == "signature check")
        #expect(explanation.probes.count == 1)
        #expect(explanation.probes[0].contains("verifies with none"))
    }

    @Test("the wrong certificate under certfile: the probe names the one in the directory that signed")
    func wrongCertificate() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(signature: v.ecdsa, certificate: v.rsaSHA256Certificate, image: v.message,
                                       candidates: [CandidateCertificate(name: "ecdsa.pem", bytes: v.ecdsaCertificate)])
        // An ECDSA signature against an RSA key: the length against the modulus is the first thing mbedTLS checks.
        #expect(explanation.failedStep?.name == "signature encoding")
        #expect(Self.evidence(explanation).contains("modulus is 256 bytes"))
        #expect(explanation.probes.contains { $0.contains("'ecdsa.pem'") && $0.contains("certfile names the wrong certificate") })
    }

    @Test("raw r‖s instead of DER: the encoding step says so and the probe verifies it as raw")
    func rawSignature() throws {
        let v = try Self.vectors()
        let raw = Array(try P256.Signing.ECDSASignature(derRepresentation: v.ecdsa).rawRepresentation)
        let explanation = Self.explain(signature: raw, certificate: v.ecdsaCertificate, image: v.message)
        #expect(explanation.failedStep?.name == "signature encoding")
        #expect(Self.evidence(explanation).contains("raw r‖s (IEEE P1363)"))
        #expect(explanation.probes.contains { $0.contains("read as raw r‖s") })
    }

    @Test("filesize one short of the image: the receive step fails and the probe finds the signature over the whole image")
    func fileSizeOff() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(signature: v.ecdsa, certificate: v.ecdsaCertificate, image: v.message, size: v.message.count - 1)
        #expect(explanation.failedStep?.name == "receive")
        #expect(Self.evidence(explanation).contains("1 bytes longer than the job's filesize"))
        #expect(explanation.probes.contains { $0.contains("the whole 84-byte image") && $0.contains("filesize is wrong") })
        #expect(explanation.steps.last?.result == .notReached)
    }

    @Test("a JSON escape in the signature: the base64 rule and the offset are named")
    func base64Rule() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(signatureText: #"MEUC\/xyz"#, certificate: v.ecdsaCertificate, image: v.message)
        #expect(explanation.failedStep?.name == "job document")
        #expect(Self.evidence(explanation).contains(#"Base64InvalidSymbol: '\' at offset 4"#))
    }

    @Test("an RSA-SHA1 signature under sig-sha256-rsa: the probe says the signer used SHA-1")
    func otherHash() throws {
        let v = try Self.vectors()
        let explanation = Self.explain(key: "sig-sha256-rsa", signature: v.rsaSHA1, certificate: v.rsaSHA1Certificate, image: v.message)
        #expect(explanation.failedStep?.name == "signature check")
        #expect(explanation.probes.contains { $0.contains("hashed with SHA-1") && $0.contains("the signer used SHA-1") })
    }

    @Test("a redundant leading zero: mbedTLS reads it, OpenSSL does not, and explain says which")
    func nonMinimalDER() throws {
        let v = try Self.vectors()
        // Re-encode r with one more leading zero: SEQUENCE length +1, r length +1.
        var der = v.ecdsa
        let rLength = Int(der[3])
        der = [0x30, der[1] + 1, 0x02, UInt8(rLength + 1), 0x00] + der[4...]
        let esp32 = Self.explain(signature: der, certificate: v.ecdsaCertificate, image: v.message)
        #expect(esp32.failedStep == nil)
        #expect(Self.evidence(esp32).contains("1 redundant leading zero byte"))
        #expect(Self.evidence(esp32).contains("mbedTLS reads it, OpenSSL refuses it"))
        let posix = Self.explain(.posixOpenSSL, signature: der, certificate: v.ecdsaCertificate, image: v.message)
        #expect(posix.failedStep?.name == "signature encoding")
    }

    @Test("base64 diagnosis: each rule the agent applies")
    func base64Diagnosis() {
        #expect(FreeRTOSBase64.diagnose(Array("QQ==".utf8), capacity: 16).status == .success)
        #expect(FreeRTOSBase64.diagnose(Array("QR==".utf8), capacity: 16).status == .nonZeroPadding)
        #expect(FreeRTOSBase64.diagnose(Array("QQ=A".utf8), capacity: 16).offset == 3)
        #expect(FreeRTOSBase64.diagnose(Array("QQ===".utf8), capacity: 16).status == .invalidPaddingSymbol)
        #expect(FreeRTOSBase64.diagnose(Array("QUFBQ".utf8), capacity: 16).status == .invalidInputSize)
        #expect(FreeRTOSBase64.diagnose(Array("QUFBQUFB".utf8), capacity: 3).status == .invalidBufferSize)
        #expect(FreeRTOSBase64.diagnose(Array("Q".utf8), capacity: 3).status == .invalidInputSize)
    }
}
