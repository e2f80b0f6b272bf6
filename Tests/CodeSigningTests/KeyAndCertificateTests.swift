import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
import CryptoExtras
@testable import CodeSigning

@Suite("Keys")
struct KeyTests {
    @Test("reads PKCS#8, SEC1 and PKCS#1 PEM and DER keys", arguments: SigningKey.Spec.allCases)
    func readsKeys(spec: SigningKey.Spec) throws {
        let key = try SigningKey.generate(spec)
        let fromPEM = try SigningKey(encoded: Array(key.pemRepresentation.utf8))
        #expect(fromPEM.certificatePublicKey == key.certificatePublicKey)
        let der: [UInt8] = switch key {
        case .p256(let k): Array(k.derRepresentation)
        case .p384(let k): Array(k.derRepresentation)
        case .rsa(let k): Array(k.derRepresentation)
        }
        #expect(try SigningKey(encoded: der).certificatePublicKey == key.certificatePublicKey)
    }

    @Test("reads an EC key that openssl ecparam wrote after an EC PARAMETERS block")
    func skipsParameters() throws {
        let key = P256.Signing.PrivateKey()
        let sec1 = PEMDocument(type: "EC PRIVATE KEY", derBytes: Array(key.derRepresentation)).pemString
        let text = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + sec1
        let parsed = try SigningKey(encoded: Array(text.utf8))
        #expect(parsed.summary == "ECDSA P-256")
    }

    @Test("refuses garbage, a certificate, an encrypted key and a 1024-bit RSA key with a message that says what to do")
    func refusesBadKeys() throws {
        let garbage = #expect(throws: CodeSigningError.self) { try SigningKey(encoded: Array("hello".utf8)) }
        #expect(garbage?.code == .malformedKey)
        let issued = try Fixture.certificate(for: .p256(P256.Signing.PrivateKey()))
        let certificate = #expect(throws: CodeSigningError.self) { try SigningKey(encoded: Array(issued.certificatePEM.utf8)) }
        #expect(certificate?.message.contains("found: CERTIFICATE") == true)
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        let encryptedError = #expect(throws: CodeSigningError.self) { try SigningKey(encoded: Array(encrypted.utf8)) }
        #expect(encryptedError?.message.contains("openssl pkey") == true)
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        let smallError = #expect(throws: CodeSigningError.self) { try SigningKey(encoded: Array(small.pemRepresentation.utf8)) }
        #expect(smallError?.message.contains("1024 bits") == true)
    }
}

@Suite("Code-signing certificates")
struct CertificateTests {
    @Test("carry keyUsage digitalSignature and EKU codeSigning, non-critical as in the FreeRTOS recipe")
    func leafExtensions() throws {
        let issued = try Fixture.certificate(for: .generate(.ecP256))
        let certificate = issued.certificate
        #expect(try certificate.extensions.keyUsage?.digitalSignature == true)
        #expect(try certificate.extensions.extendedKeyUsage?.contains(.codeSigning) == true)
        for ext in certificate.extensions where ext.oid == .X509ExtensionID.keyUsage || ext.oid == .X509ExtensionID.extendedKeyUsage {
            #expect(!ext.critical)
        }
        #expect(certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
    }

    @Test("issue the CC3220 recipe: an RSA-2048 leaf signed with SHA-1 by the CA")
    func cc3220Chain() throws {
        let caKey = try SigningKey.generate(.rsa2048)
        let ca = try CertificateFactory.certificateAuthority(commonName: "lab CA", key: caKey, notBefore: Fixture.now, days: 3650)
        #expect(try ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        let leafKey = try SigningKey.generate(.rsa2048)
        let leaf = try CertificateFactory.codeSigningCertificate(
            commonName: "ti signer", key: leafKey, notBefore: Fixture.now, days: 365,
            issuer: (ca.certificate, caKey), signatureHash: .insecureSHA1)
        #expect(leaf.certificate.signatureAlgorithm == .sha1WithRSAEncryption)
        #expect(leaf.certificate.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(leaf.certificate.signature, for: leaf.certificate))
        #expect(leafKey.matches(leaf.certificate))
        #expect(!caKey.matches(leaf.certificate))
        let bundle = try CertificateBundle(certificate: Array(leaf.certificatePEM.utf8), privateKey: Array(leafKey.pemRepresentation.utf8),
                                           chain: Array(ca.certificatePEM.utf8), now: Fixture.now.addingTimeInterval(86_400))
        #expect(bundle.chain.count == 1)
    }

    @Test("refuse a CA key that does not belong to the CA certificate, a non-CA issuer and SHA-1 from an ECDSA issuer")
    func refusesBadIssuers() throws {
        let caKey = try SigningKey.generate(.ecP256)
        let ca = try CertificateFactory.certificateAuthority(commonName: "lab CA", key: caKey, notBefore: Fixture.now, days: 10)
        let other = try SigningKey.generate(.ecP256)
        let mismatch = #expect(throws: CodeSigningError.self) {
            try CertificateFactory.codeSigningCertificate(commonName: "x", key: other, notBefore: Fixture.now, days: 1, issuer: (ca.certificate, other))
        }
        #expect(mismatch?.code == .keyMismatch)
        let sha1 = #expect(throws: CodeSigningError.self) {
            try CertificateFactory.codeSigningCertificate(commonName: "x", key: other, notBefore: Fixture.now, days: 1, issuer: (ca.certificate, caKey), signatureHash: .insecureSHA1)
        }
        #expect(sha1?.code == .algorithmNotAllowed, "\(String(describing: sha1))")
        let leaf = try Fixture.certificate(for: other)
        let notCA = #expect(throws: CodeSigningError.self) {
            try CertificateFactory.codeSigningCertificate(commonName: "x", key: caKey, notBefore: Fixture.now, days: 1, issuer: (leaf.certificate, other))
        }
        #expect(notCA?.code == .chainMismatch)
    }
}

@Suite("Importing a certificate as ACM does")
struct CertificateImportTests {
    @Test("refuses a key that does not match the certificate")
    func refusesMismatch() throws {
        let issued = try Fixture.certificate(for: .generate(.ecP256))
        let other = try SigningKey.generate(.ecP256)
        let error = #expect(throws: CodeSigningError.self) {
            try CertificateBundle(certificate: Array(issued.certificatePEM.utf8), privateKey: Array(other.pemRepresentation.utf8), chain: nil, now: Fixture.now)
        }
        #expect(error?.code == .keyMismatch)
    }

    @Test("refuses an expired and a not-yet-valid certificate, and accepts the window's edges")
    func refusesOutsideValidity() throws {
        let key = try SigningKey.generate(.ecP256)
        let issued = try Fixture.certificate(for: key, days: 10)
        let cert = Array(issued.certificatePEM.utf8), pem = Array(key.pemRepresentation.utf8)
        let expired = #expect(throws: CodeSigningError.self) {
            try CertificateBundle(certificate: cert, privateKey: pem, chain: nil, now: Fixture.now.addingTimeInterval(11 * 86_400))
        }
        #expect(expired?.code == .certificateExpired)
        #expect(expired?.message.contains("only during its validity period") == true)
        let early = #expect(throws: CodeSigningError.self) {
            try CertificateBundle(certificate: cert, privateKey: pem, chain: nil, now: Fixture.now.addingTimeInterval(-1))
        }
        #expect(early?.code == .certificateNotYetValid)
        _ = try CertificateBundle(certificate: cert, privateKey: pem, chain: nil, now: Fixture.now)
        _ = try CertificateBundle(certificate: cert, privateKey: pem, chain: nil, now: Fixture.now.addingTimeInterval(10 * 86_400))
    }

    @Test("refuses a chain whose first certificate did not sign the leaf, and a leaf file with two certificates")
    func refusesWrongChain() throws {
        let key = try SigningKey.generate(.ecP256)
        let issued = try Fixture.certificate(for: key)
        let stranger = try CertificateFactory.certificateAuthority(commonName: "stranger", key: .generate(.ecP256), notBefore: Fixture.now, days: 10)
        let chain = #expect(throws: CodeSigningError.self) {
            try CertificateBundle(certificate: Array(issued.certificatePEM.utf8), privateKey: Array(key.pemRepresentation.utf8),
                                  chain: Array(stranger.certificatePEM.utf8), now: Fixture.now)
        }
        #expect(chain?.code == .chainMismatch)
        let two = #expect(throws: CodeSigningError.self) {
            try CertificateBundle(certificate: Array((issued.certificatePEM + stranger.certificatePEM).utf8),
                                  privateKey: Array(key.pemRepresentation.utf8), chain: nil, now: Fixture.now)
        }
        #expect(two?.message.contains("holds 2 certificates") == true)
    }

    @Test("reads DER certificates and refuses garbage")
    func readsDER() throws {
        let issued = try Fixture.certificate(for: .generate(.ecP256))
        var serializer = DER.Serializer()
        try serializer.serialize(issued.certificate)
        #expect(try CertificateBundle.parseCertificates(serializer.serializedBytes, what: "certificate") == [issued.certificate])
        let error = #expect(throws: CodeSigningError.self) { try CertificateBundle.parseCertificates([1, 2, 3], what: "certificate") }
        #expect(error?.code == .malformedCertificate)
    }
}
