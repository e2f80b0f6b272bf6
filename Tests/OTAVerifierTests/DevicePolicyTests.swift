import Crypto
import Foundation
import OTAVerifier
import SwiftASN1
import Testing
import X509

/// A signed update made here (a P-256 signer certificate with chosen dates, an image and its job document), so each
/// test states the situation and what an enforcing device must decide.
struct PolicySituation {
    static let certfile = "codesign.crt"
    let image: [UInt8]
    let signature: [UInt8]
    let certificate: [UInt8]
    let jobDocument: [UInt8]
    let listSignerKey = P256.Signing.PrivateKey()
    let listSignerCertificate: [UInt8]

    /// notBefore/notAfter as unix seconds.
    init(notBefore: Int64 = 1_767_225_600, notAfter: Int64 = 1_798_761_600) throws {  // 2026-01-01 .. 2027-01-01
        let signer = P256.Signing.PrivateKey()
        image = Array((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        signature = Array(try signer.signature(for: SHA256.hash(data: image)).derRepresentation)
        certificate = try Self.certificate(signer, "otarig test code signer", notBefore: notBefore, notAfter: notAfter)
        listSignerCertificate = try Self.certificate(listSignerKey, "otarig test list signer", notBefore: 0, notAfter: 4_102_444_800)
        let document = #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-policy","files":[{"filepath":"/ota/fw.bin","filesize":\#(image.count),"fileid":0,"certfile":"\#(Self.certfile)","sig-sha256-ecdsa":"\#(Data(signature).base64EncodedString())"}]}}"#
        jobDocument = JobExecution.asExecutionMessage(Array(document.utf8), jobId: "AFR_OTA-policy", clientToken: "0:policy")
    }

    static func certificate(_ key: P256.Signing.PrivateKey, _ name: String, notBefore: Int64, notAfter: Int64) throws -> [UInt8] {
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: TimeInterval(notBefore)), notValidAfter: Date(timeIntervalSince1970: TimeInterval(notAfter)),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: Certificate.PrivateKey(key))
        return Array(try certificate.serializeAsPEM().pemString.utf8)
    }

    /// A list signed by this situation's list signer.
    func list(_ entries: [RevocationList.Entry], issuedAt: UInt64 = 1_767_225_600) throws -> [UInt8] {
        try RevocationList(issuedAt: issuedAt, entries: entries).signed(with: listSignerKey)
    }

    func inputs(_ policy: DevicePolicyConfig?) -> DeviceInputs {
        let certificate = self.certificate, signerCertificate = listSignerCertificate
        return DeviceInputs(profile: .esp32MbedTLS, jobDocument: jobDocument, image: Data(image), devicePolicy: policy) { label in
            switch label {
            case Self.certfile: .found(certificate)
            case RevocationList.signerCertificateLabel: .found(signerCertificate)
            default: .notFound
            }
        }
    }
}

@Suite("The revocation list format")
struct RevocationListTests {
    @Test("a list encodes byte by byte as Boards/README.md lays it out and decodes back")
    func layout() throws {
        let hash = [UInt8](repeating: 0xAB, count: 32)
        let list = RevocationList(issuedAt: 0x0102_0304_0506_0708, entries: [.init(signatureHash: hash, reason: .profileVersionRevoked, time: 0x1122)],
                                  signature: [0x30, 0x00])
        let bytes = list.encoded()
        #expect(Array(bytes[0..<4]) == Array("OTRL".utf8))
        #expect(bytes[4] == 1)
        #expect(Array(bytes[5..<13]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(bytes[13..<17]) == [0, 0, 0, 1])
        #expect(Array(bytes[17..<49]) == hash)
        #expect(bytes[49] == 2)
        #expect(Array(bytes[50..<58]) == [0, 0, 0, 0, 0, 0, 0x11, 0x22])
        #expect(Array(bytes[58..<60]) == [0, 2])
        #expect(Array(bytes[60...]) == [0x30, 0x00])
        #expect(bytes.count == 17 + 41 + 2 + 2)
        #expect(try RevocationList(decoding: bytes) == list)
    }

    @Test("every prefix of a list is malformed, and so are bad magic, trailing bytes and an unknown reason; version 2 is its own error")
    func malformed() throws {
        let situation = try PolicySituation()
        let bytes = try situation.list([.init(signature: situation.signature, reason: .signatureRevoked, time: 1)])
        for cut in 0..<bytes.count {
            #expect(throws: RevocationList.DecodeError.self) { try RevocationList(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: RevocationList.DecodeError.malformed("truncated header")) { try RevocationList(decoding: Array(bytes.prefix(16))) }
        #expect(throws: RevocationList.DecodeError.malformed("trailing bytes after the signature")) { try RevocationList(decoding: bytes + [0]) }
        var bad = bytes
        bad[0] = UInt8(ascii: "X")
        #expect(throws: RevocationList.DecodeError.malformed("bad magic")) { try RevocationList(decoding: bad) }
        bad = bytes
        bad[4] = 2
        #expect(throws: RevocationList.DecodeError.unsupportedVersion(2)) { try RevocationList(decoding: bad) }
        bad = bytes
        bad[17 + 32] = 9
        #expect(throws: RevocationList.DecodeError.malformed("an entry has an unknown reason")) { try RevocationList(decoding: bad) }
    }

    @Test("signed(with:) makes a DER P-256 signature over the header and entries that the signer's public key verifies")
    func signed() throws {
        let key = P256.Signing.PrivateKey()
        let list = RevocationList(issuedAt: 5, entries: [])
        let decoded = try RevocationList(decoding: try list.signed(with: key))
        let signature = try P256.Signing.ECDSASignature(derRepresentation: decoded.signature)
        #expect(key.publicKey.isValidSignature(signature, for: list.signedBytes))
        #expect(list.signedBytes.count == 17)
    }

    @Test("the list from signer facts holds revoked jobs (reason 1) and signatures a profile revocation covers (reason 2), nothing else")
    func fromFacts() throws {
        let day: TimeInterval = 86_400
        let t0 = Date(timeIntervalSince1970: 1_767_225_600)
        let sig = { (n: UInt8) in Data([n, n, n]).base64EncodedString() }
        let facts = SignerFacts(signingJobs: [
            .init(jobId: "revoked", signature: sig(1), profileName: "p", profileVersion: "v1", signedAt: t0,
                  revocation: .init(revokedAt: t0 + day, reason: "leaked")),
            .init(jobId: "before-effective", signature: sig(2), profileName: "p", profileVersion: "v2", signedAt: t0),
            .init(jobId: "at-effective", signature: sig(3), profileName: "p", profileVersion: "v2", signedAt: t0 + day),
            .init(jobId: "after-effective", signature: sig(4), profileName: "p", profileVersion: "v2", signedAt: t0 + 2 * day),
            .init(jobId: "other-version", signature: sig(5), profileName: "p", profileVersion: "v1", signedAt: t0 + 3 * day),
        ], profileRevocations: [.init(profileName: "p", profileVersion: "v2", effectiveTime: t0 + day)])
        let list = RevocationList(facts: facts, issuedAt: t0 + 10 * day)
        #expect(list.issuedAt == UInt64(1_768_089_600))
        let dayLater: UInt64 = 1_767_312_000
        let expected: [RevocationList.Entry] = [
            RevocationList.Entry(signature: [1, 1, 1], reason: .signatureRevoked, time: dayLater),
            RevocationList.Entry(signature: [3, 3, 3], reason: .profileVersionRevoked, time: dayLater),
            RevocationList.Entry(signature: [4, 4, 4], reason: .profileVersionRevoked, time: dayLater),
        ]
        #expect(list.entries == expected)
    }
}

@Suite("The twin of the enforcing device")
struct DevicePolicyTwinTests {
    static let inside = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28, inside the certificate's validity

    @Test("nil policy and a policy with no checks are the stock device: an expired certificate and a revoking list change nothing")
    func stock() throws {
        let s = try PolicySituation(notBefore: 0, notAfter: 86_400)
        let revoking = try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)])
        for policy in [nil, DevicePolicyConfig(checks: [], deviceTime: Self.inside, revocationList: revoking)] {
            let verdict = DeviceTwin.run(s.inputs(policy))
            #expect(verdict.outcome == .accepted)
            #expect(verdict.palStatus == .success)
            #expect(!verdict.log.contains { $0.text.hasPrefix("Device policy") })
        }
    }

    @Test("a revoked signature is refused with 0xe3005201 (reason 1) or 0xe3005202 (reason 2), a miss is accepted")
    func revocation() throws {
        let s = try PolicySituation()
        let hit1 = DeviceTwin.run(s.inputs(.init(checks: [.revocation], revocationList: try s.list([
            .init(signature: [9], reason: .signatureRevoked, time: 1), .init(signature: s.signature, reason: .signatureRevoked, time: 1_767_312_000),
        ]))))
        #expect(hit1.outcome == .rejectedSignature)
        #expect(hit1.palStatus.rawValue == 0xE300_5201)
        #expect(hit1.devicePolicyRefusal == .signatureRevoked)
        #expect(hit1.log.map(\.text).contains("Device policy: the signature is revoked (its signing job was revoked at 2026-01-02T00:00:00Z)."))
        #expect(hit1.log.map(\.text).contains("Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3005201)"))
        #expect(hit1.statuses.last?.payload == #"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00005201"}}"#)

        let hit2 = DeviceTwin.run(s.inputs(.init(checks: [.revocation], revocationList: try s.list([
            .init(signature: s.signature, reason: .profileVersionRevoked, time: 1_767_312_000),
        ]))))
        #expect(hit2.palStatus.rawValue == 0xE300_5202)

        let miss = DeviceTwin.run(s.inputs(.init(checks: [.revocation], revocationList: try s.list([.init(signature: [9], reason: .signatureRevoked, time: 1)]))))
        #expect(miss.outcome == .accepted)
        #expect(miss.log.map(\.text).contains("Device policy: revocation list issued 2026-01-01T00:00:00Z with 1 entries verified."))
        #expect(miss.log.map(\.text).contains("Device policy: the signature is not on the revocation list."))
    }

    @Test("the list fails closed: missing, malformed, another version, tampered, signed by a stranger, no signer certificate")
    func failClosed() throws {
        let s = try PolicySituation()
        let good = try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)])
        var tampered = good
        tampered[17 + 3] ^= 1
        var version = good
        version[4] = 7
        let stranger = try RevocationList(issuedAt: 1, entries: []).signed(with: P256.Signing.PrivateKey())
        let cases: [(DevicePolicyConfig, UInt32)] = [
            (.init(checks: [.revocation]), 0x5101),
            (.init(checks: [.revocation], revocationList: []), 0x5101),
            (.init(checks: [.revocation], revocationList: Array(good.dropLast())), 0x5102),
            (.init(checks: [.revocation], revocationList: version), 0x5103),
            (.init(checks: [.revocation], revocationList: good, listSignerCertificate: Array("junk".utf8)), 0x5104),
            (.init(checks: [.revocation], revocationList: tampered), 0x5105),
            (.init(checks: [.revocation], revocationList: stranger), 0x5105),
        ]
        for (policy, sub) in cases {
            let verdict = DeviceTwin.run(s.inputs(policy))
            #expect(verdict.outcome == .rejectedSignature)
            #expect(verdict.palStatus == PALStatus(.signatureCheckFailed, sub: sub))
        }
    }

    @Test("certificate dates against the device clock: before, inside, after; no trusted time skips the check")
    func validity() throws {
        let s = try PolicySituation()
        let before = DeviceTwin.run(s.inputs(.init(checks: [.certificateValidity], deviceTime: Date(timeIntervalSince1970: 0))))
        #expect(before.palStatus.rawValue == 0xE300_5001)
        #expect(before.log.map(\.text).contains("Device policy: the signer certificate is not valid before 2026-01-01T00:00:00Z (device time 1970-01-01T00:00:00Z)."))
        let after = DeviceTwin.run(s.inputs(.init(checks: [.certificateValidity], deviceTime: Date(timeIntervalSince1970: 4_102_444_800))))
        #expect(after.palStatus.rawValue == 0xE300_5002)
        #expect(after.log.map(\.text).contains("Device policy: the signer certificate expired at 2027-01-01T00:00:00Z (device time 2100-01-01T00:00:00Z)."))
        let inside = DeviceTwin.run(s.inputs(.init(checks: [.certificateValidity], deviceTime: Self.inside)))
        #expect(inside.outcome == .accepted)
        let untimed = DeviceTwin.run(s.inputs(.init(checks: [.certificateValidity, .revocation],
                                                    revocationList: try s.list([]))))
        #expect(untimed.outcome == .accepted)
        #expect(untimed.log.contains(LogLine(level: .warn, text: "Device policy: no trusted time; skipping the certificate validity check.")))
    }
}
