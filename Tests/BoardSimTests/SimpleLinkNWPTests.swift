import BoardSim
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import Testing
import X509

/// `SimpleLinkNWP.close`, the Swift door to the C model of the CC3220SF network processor's signed close
/// (Firmware/source/hil_simplelink.c). Keys, certificates and signatures are made here by swift-crypto and
/// swift-certificates (RSA PKCS#1 v1.5, the file signed over SHA-1 as TI's recipe does); the expected codes are the
/// spec's rows (spec/simplelink-close.md) and TI's errors.h values, written out literally.
@Suite("The CC3220SF network processor's close, from Swift")
struct SimpleLinkNWPTests {
    struct Authority {
        var key: _RSA.Signing.PrivateKey
        var name: DistinguishedName
        var der: [UInt8]
    }

    static let notBefore = Date(timeIntervalSince1970: 1_600_000_000)
    static let notAfter = Date(timeIntervalSince1970: 4_102_444_800)

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func root(_ commonName: String) throws -> Authority {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return Authority(key: key, name: name, der: try der(certificate))
    }

    static func issue(_ commonName: String, by issuer: Authority) throws -> Authority {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuer.name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions { BasicConstraints.isCertificateAuthority(maxPathLength: nil) },
            issuerPrivateKey: Certificate.PrivateKey(issuer.key))
        return Authority(key: key, name: name, der: try der(certificate))
    }

    /// TI's recipe: openssl dgst -sha1 -sign key.pem file, an RSA PKCS#1 v1.5 signature over SHA-1.
    static func sign(_ file: [UInt8], with signer: Authority) throws -> [UInt8] {
        Array(try signer.key.signature(for: Insecure.SHA1.hash(data: file), padding: .insecurePKCS1v1_5).rawRepresentation)
    }

    let root: Authority
    let intermediate: Authority
    let signer: Authority
    let signerViaIntermediate: Authority
    let file: [UInt8]

    init() throws {
        root = try Self.root("dummy-root-ca-cert")
        intermediate = try Self.issue("dummy-trusted-ca-cert", by: root)
        signer = try Self.issue("dummy-trusted-cert", by: root)
        signerViaIntermediate = try Self.issue("otarig signer via intermediate", by: intermediate)
        file = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    var catalog: SimpleLinkNWP.Catalog { SimpleLinkNWP.Catalog(roots: [root.der]) }

    @Test("a file signed by a certificate the catalog root issued closes with 0 and OtaPalSuccess")
    func acceptsSignerIssuedByRoot() throws {
        var state = SimpleLinkNWP.State()
        let files = ["tisigner.crt.der": signer.der]
        let (code, evidence) = SimpleLinkNWP.close(file: file, certificateName: "tisigner.crt.der", signature: try Self.sign(file, with: signer),
                                                   lookup: { files[$0] }, catalog: catalog, state: &state)
        #expect(code == 0)
        #expect(evidence.name == "SL_RET_CODE_OK")
        #expect(evidence.palStatus == 0)
        #expect(evidence.chain.map(\.subject) == ["CN=dummy-trusted-cert", "CN=dummy-root-ca-cert"])
        #expect(evidence.chain.map(\.file) == ["tisigner.crt.der", nil])
        #expect(evidence.rootIndex == 0)
        #expect(evidence.signerKeyBits == 2048)
        #expect(state.securityAlerts == 0)
    }

    @Test("the issuer is looked up under its Issued To name, after one leading slash is dropped")
    func followsIssuerFileByIssuedToName() throws {
        var state = SimpleLinkNWP.State()
        let files = ["signer.der": signerViaIntermediate.der, "dummy-trusted-ca-cert": intermediate.der]
        var asked: [String] = []
        let (code, evidence) = SimpleLinkNWP.close(
            file: file, certificateName: "/signer.der", signature: try Self.sign(file, with: signerViaIntermediate),
            lookup: { asked.append($0); return files[$0] }, catalog: catalog, state: &state)
        #expect(code == 0)
        #expect(asked == ["signer.der", "dummy-trusted-ca-cert"])
        #expect(evidence.chain.count == 3)
        #expect(evidence.chain[1].file == "dummy-trusted-ca-cert")
    }

    @Test("a tampered file is WRONG_SIGNATURE_SECURITY_ALERT (-10289), a security alert, OtaPalSignatureCheckFailed 0xe3ffd7cf")
    func refusesTamperedFile() throws {
        var state = SimpleLinkNWP.State()
        let files = ["signer.der": signer.der]
        let signature = try Self.sign(file, with: signer)
        var tampered = file
        tampered[100] ^= 0x01
        let (code, evidence) = SimpleLinkNWP.close(file: tampered, certificateName: "signer.der", signature: signature,
                                                   lookup: { files[$0] }, catalog: catalog, state: &state)
        #expect(code == -10289)
        #expect(evidence.name == "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT")
        #expect(evidence.securityAlert)
        #expect(state.securityAlerts == 1)
        #expect(evidence.palStatus == 0xE3FF_D7CF)
    }

    @Test("a chain to a root outside the catalog is ROOT_CA_IS_UNKOWN (-10287), not an alert")
    func refusesUnknownRoot() throws {
        let stranger = try Self.root("otarig unknown root")
        let strangersSigner = try Self.issue("signed by a stranger", by: stranger)
        var state = SimpleLinkNWP.State()
        let files = ["signer.der": strangersSigner.der, "otarig unknown root": stranger.der]
        let (code, _) = SimpleLinkNWP.close(file: file, certificateName: "signer.der", signature: try Self.sign(file, with: strangersSigner),
                                            lookup: { files[$0] }, catalog: catalog, state: &state)
        #expect(code == -10287)
        #expect(state.securityAlerts == 0)
    }

    @Test("the fifteenth security alert locks the device: every later close is DEVICE_LOCKED_SECURITY_ALERT (-28674)")
    func locksAfterFifteenAlerts() throws {
        var state = SimpleLinkNWP.State()
        let files = ["signer.der": signer.der]
        let good = try Self.sign(file, with: signer)
        var bad = good
        bad[0] ^= 0x80
        for attempt in 1...15 {
            let (code, evidence) = SimpleLinkNWP.close(file: file, certificateName: "signer.der", signature: bad, lookup: { files[$0] },
                                                       catalog: catalog, state: &state)
            #expect(code == -10289)
            #expect(evidence.locked == (attempt == 15))
        }
        #expect(state.locked)
        let (code, evidence) = SimpleLinkNWP.close(file: file, certificateName: "signer.der", signature: good, lookup: { files[$0] },
                                                   catalog: catalog, state: &state)
        #expect(code == -28674)
        #expect(evidence.palStatus == 0xEEFF_8FFE)
        #expect(state.securityAlerts == 15)
    }

    @Test("a catalog directory: a PEM root, and revoked.txt naming the signer by SHA-256 makes CERT_IN_THE_CHAIN_REVOKED (-10273)")
    func loadsCatalogDirectoryWithRevocations() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-simplelink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: root.der).pemString
        try Data(pem.utf8).write(to: directory.appendingPathComponent("dummy-root-ca-cert.pem"))
        let fingerprint = SHA256.hash(data: signer.der).map { String(format: "%02X", $0) }.joined(separator: ":")
        try Data("# revoked by otarig's test\n\(fingerprint)\n".utf8).write(to: directory.appendingPathComponent("revoked.txt"))

        let loaded = try SimpleLinkNWP.Catalog.load(directory: directory.path)
        #expect(loaded.roots == [root.der])
        #expect(loaded.revokedFingerprints == [Array(SHA256.hash(data: signer.der))])

        var state = SimpleLinkNWP.State()
        let files = ["signer.der": signer.der]
        let (code, _) = SimpleLinkNWP.close(file: file, certificateName: "signer.der", signature: try Self.sign(file, with: signer),
                                            lookup: { files[$0] }, catalog: loaded, state: &state)
        #expect(code == -10273)
        #expect(state.securityAlerts == 1)
    }

    @Test("a 512-byte signature is WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH (-10290) before any file is read")
    func refuses512ByteSignature() {
        var state = SimpleLinkNWP.State()
        var asked = 0
        let (code, _) = SimpleLinkNWP.close(file: file, certificateName: "signer.der", signature: [UInt8](repeating: 1, count: 512),
                                            lookup: { _ in asked += 1; return nil }, catalog: catalog, state: &state)
        #expect(code == -10290)
        #expect(asked == 0)
    }

    @Test("names and the PAL mapping follow errors.h and otaPal_CloseFile")
    func namesAndMapping() {
        #expect(SimpleLinkNWP.errorName(-10287) == "SL_ERROR_FS_ROOT_CA_IS_UNKOWN")
        #expect(SimpleLinkNWP.errorName(-10372) == "SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME")
        for code: Int32 in [-10289, -10290, -10273, -10274, -10287, -10292, -10341, -10363, -10372, -10242] {
            #expect(SimpleLinkNWP.palStatus(forClose: code) == 0xE300_0000 | (UInt32(bitPattern: code) & 0xFF_FFFF))
        }
        #expect(SimpleLinkNWP.palStatus(forClose: 0) == 0)
        #expect(SimpleLinkNWP.palStatus(forClose: -10310) == 0xEE00_0000 | (UInt32(bitPattern: -10310) & 0xFF_FFFF))
        #expect(SimpleLinkNWP.isSecurityAlert(-10292) && !SimpleLinkNWP.isSecurityAlert(-10287))
    }
}
