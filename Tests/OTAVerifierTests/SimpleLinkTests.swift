import Crypto
import Foundation
import Testing
@testable import OTAVerifier

/// The cc3220-simplelink profile on the public RSA-SHA1 vector (signed by a certificate TI's playground root issued),
/// and each SimpleLink error the twin models, with the status word the PAL reports.
@Suite("cc3220-simplelink profile")
struct SimpleLinkTests {
    static let vectors = TwinProfileTests.fixtures

    struct Vector {
        var message: [UInt8]
        var valid: [UInt8]
        var invalid: [UInt8]
        var signerDER: [UInt8]
        var root: [UInt8]
    }

    static func vector() throws -> Vector {
        let doc = try TwinProfileTests.json(vectors.appendingPathComponent("ota_pal_signature_vectors.json"))
        let message = try TwinProfileTests.bytes(hex: try #require((doc["message"] as? [String: Any])?["hex"] as? String))
        let rsa = try #require((doc["vectors"] as? [[String: Any]])?.first { $0["id"] as? String == "lit-rsa_sha1" })
        let valid = try TwinProfileTests.bytes(hex: try #require((rsa["valid_signature"] as? [String: Any])?["hex"] as? String))
        let invalid = try TwinProfileTests.bytes(hex: try #require((rsa["invalid_signature"] as? [String: Any])?["hex"] as? String))
        let signerPEM = try TwinProfileTests.pem("rsa-sha1-signer.crt.pem")
        let signerDER = try #require(SignatureChecker.pemBlocks(signerPEM)?.first)
        return Vector(message: message, valid: valid, invalid: invalid, signerDER: signerDER, root: try TwinProfileTests.pem("rsa-sha1-root-ca-cert.pem"))
    }

    static func catalog(_ roots: [[UInt8]], revoked: String? = nil) throws -> RootCatalog {
        try RootCatalog.load(files: roots.enumerated().map { ("root\($0.offset).pem", $0.element) }, revocationList: revoked)
    }

    static func run(signature: [UInt8], certificate: [UInt8]?, catalog: RootCatalog?, image: [UInt8], certfile: String = "signer.der",
                    size: Int? = nil) -> DeviceVerdict {
        let inputs = DeviceInputs(profile: .cc3220SimpleLink,
                                  jobDocument: TwinProfileTests.job(key: "sig-sha1-rsa", signature: signature, certfile: certfile, size: size ?? image.count),
                                  image: Data(image), rootCatalog: catalog) { name in
            guard name == "signer.der", let certificate else { return .notFound }
            return .found(certificate)
        }
        return DeviceTwin.run(inputs)
    }

    @Test("the valid RSA-SHA1 vector passes through TI's playground root; the invalid one is WRONG_SIGNATURE (0xe3ffd7cf)")
    func vectorsThroughTheChain() throws {
        let v = try Self.vector()
        let catalog = try Self.catalog([v.root])
        let good = Self.run(signature: v.valid, certificate: v.signerDER, catalog: catalog, image: v.message)
        #expect(good.accepted)
        #expect(good.palStatus == .success)
        #expect(good.hash == .sha1)
        #expect(good.simpleLink?.root == "root0.pem")
        #expect(good.simpleLink?.chain.last?.contains("dummy-root-ca-cert") == true)
        #expect(good.log.contains { $0.text == "Authenticating and closing file." })

        let bad = Self.run(signature: v.invalid, certificate: v.signerDER, catalog: catalog, image: v.message)
        #expect(bad.outcome == .rejectedSignature)
        #expect(bad.palStatus.rawValue == 0xe3ff_d7cf)
        #expect(bad.simpleLink?.error == .wrongSignatureSecurityAlert)
        #expect(bad.statuses.last?.payload == #"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00ffd7cf"}}"#)
        #expect(bad.log.contains { $0.text == "Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3ffd7cf)" })
    }

    @Test("each fault gives its SimpleLink code as the sub-code, and never BadSignerCert")
    func faults() throws {
        let v = try Self.vector()
        let catalog = try Self.catalog([v.root])
        func status(_ verdict: DeviceVerdict) -> UInt32 { verdict.palStatus.rawValue }

        // The certificate file is missing: no fallback on this PAL.
        let missing = Self.run(signature: v.valid, certificate: nil, catalog: catalog, image: v.message)
        #expect(missing.simpleLink?.error == .wrongCertificateFileName)
        #expect(status(missing) == 0xe3ff_d77c)
        // An empty certfile name.
        let unnamed = Self.run(signature: v.valid, certificate: v.signerDER, catalog: catalog, image: v.message, certfile: "")
        #expect(unnamed.simpleLink?.error == .wrongSignatureOrCertificateNameLength)
        // PEM in the file system is not a certificate the network processor reads.
        let pem = Self.run(signature: v.valid, certificate: try TwinProfileTests.pem("rsa-sha1-signer.crt.pem"), catalog: catalog, image: v.message)
        #expect(pem.simpleLink?.error == .certificateChainErrorSecurityAlert)
        #expect(status(pem) == 0xe3ff_d7cc)
        // A catalog without the TI root.
        let other = try Self.catalog([TwinProfileTests.pem("ecdsa-sha256-signer.crt.pem")])
        let unknownRoot = Self.run(signature: v.valid, certificate: v.signerDER, catalog: other, image: v.message)
        #expect(unknownRoot.simpleLink?.error == .rootCAIsUnknown)
        #expect(status(unknownRoot) == 0xe3ff_d7d1)
        // No catalog at all.
        let noStore = Self.run(signature: v.valid, certificate: v.signerDER, catalog: RootCatalog(roots: []), image: v.message)
        #expect(noStore.simpleLink?.error == .noCertificateStore)
        // The signer revoked by fingerprint (SHA-1, colon form as openssl prints it).
        let fingerprint = Insecure.SHA1.hash(data: v.signerDER).map { String(format: "%02X", $0) }.joined(separator: ":")
        let revoked = Self.run(signature: v.valid, certificate: v.signerDER,
                               catalog: try Self.catalog([v.root], revoked: "# revoked signers\n\(fingerprint)\n"),
                               image: v.message)
        #expect(revoked.simpleLink?.error == .certificateInTheChainRevokedSecurityAlert)
        #expect(status(revoked) == 0xe3ff_d7df)
        // A signature one byte short of the modulus.
        let short = Self.run(signature: Array(v.valid.dropLast()), certificate: v.signerDER, catalog: catalog, image: v.message)
        #expect(short.simpleLink?.error == .illegalSignature)
        #expect(status(short) == 0xe3ff_d785)
        // A flipped payload bit.
        var tampered = v.message
        tampered[10] ^= 1
        let flipped = Self.run(signature: v.valid, certificate: v.signerDER, catalog: catalog, image: tampered)
        #expect(flipped.simpleLink?.error == .wrongSignatureSecurityAlert)

        for verdict in [missing, unnamed, pem, unknownRoot, noStore, revoked, short, flipped] {
            #expect(verdict.palStatus.main == 0xe3)
            #expect(verdict.accepted == false)
        }
    }

    @Test("a file over 512 KiB is refused at create: OtaPalRxFileTooLarge 0xe5080000 and the job aborted")
    func tooLarge() throws {
        let v = try Self.vector()
        let image = [UInt8](repeating: 0x5A, count: 512 * 1024 + 1)
        let verdict = Self.run(signature: v.valid, certificate: v.signerDER, catalog: try Self.catalog([v.root]), image: image)
        #expect(verdict.outcome == .rejectedFileCreate)
        #expect(verdict.palStatus.rawValue == 0xe508_0000)
        #expect(verdict.imageState == .aborted)
        #expect(verdict.statuses.map(\.payload) == [#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0xe5080000"}}"#])
        #expect(verdict.bytesReceived == 0)
        // Exactly 512 KiB is created and received.
        let fits = Self.run(signature: v.valid, certificate: v.signerDER, catalog: try Self.catalog([v.root]),
                            image: [UInt8](repeating: 0x5A, count: 512 * 1024))
        #expect(fits.outcome == .rejectedSignature)
        #expect(fits.bytesReceived == 512 * 1024)
    }

    @Test("the revocation list refuses lines that are not fingerprints, naming the line")
    func badRevocationList() throws {
        let v = try Self.vector()
        let short = #expect(throws: PolicyError.self) { try Self.catalog([v.root], revoked: "ok\n") }
        #expect(short?.message.contains("line 1 of the revocation list") == true)
        do {
            _ = try Self.catalog([v.root], revoked: "# fine\n\nnot-hex\n")
            Issue.record("a bad line was accepted")
        } catch {
            #expect((error as? PolicyError)?.message.contains("line 3") == true)
        }
        let junk = #expect(throws: PolicyError.self) { try RootCatalog.load(files: [("junk.pem", Array("hello".utf8))]) }
        #expect(junk?.message == "'junk.pem' is not an X.509 certificate (PEM or DER)")
    }
}
