import BoardSim
import Crypto
import Foundation
import OTAVerifier
import SwiftASN1
import Testing
import X509

/// The C device policy (Firmware/source/hil_policy.c through DeviceRun and the POSIX port) against its twin
/// (OTAVerifier.DevicePolicy through DeviceTwin) on the same bytes: for every case the test states the outcome and
/// sub-code an enforcing device must give, and both must give it, with the same log lines and job-status messages.
@Suite("The device policy: C core and twin")
struct DevicePolicyCrossCheckTests {
    static let certfile = "codesign.crt"
    static let signerLabel = RevocationList.signerCertificateLabel

    struct Situation {
        let image: [UInt8]
        let signature: [UInt8]
        let certificate: [UInt8]
        let jobDocument: [UInt8]
        let listKey = P256.Signing.PrivateKey()
        let listCertificate: [UInt8]

        init() throws {
            let signer = P256.Signing.PrivateKey()
            image = (0..<9000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
            signature = Array(try signer.signature(for: SHA256.hash(data: image)).derRepresentation)
            // Valid 2026-01-01 .. 2027-01-01.
            certificate = try Self.certificate(signer, "cross-check code signer", 1_767_225_600, 1_798_761_600)
            listCertificate = try Self.certificate(listKey, "cross-check list signer", 0, 4_102_444_800)
            let document = #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-x","files":[{"filepath":"/ota/fw.bin","filesize":\#(image.count),"fileid":0,"certfile":"\#(DevicePolicyCrossCheckTests.certfile)","sig-sha256-ecdsa":"\#(Data(signature).base64EncodedString())"}]}}"#
            jobDocument = JobExecution.asExecutionMessage(Array(document.utf8), jobId: "AFR_OTA-x", clientToken: "0:x")
        }

        static func certificate(_ key: P256.Signing.PrivateKey, _ name: String, _ notBefore: Int64, _ notAfter: Int64) throws -> [UInt8] {
            let subject = try DistinguishedName { CommonName(name) }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: Date(timeIntervalSince1970: TimeInterval(notBefore)), notValidAfter: Date(timeIntervalSince1970: TimeInterval(notAfter)),
                issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
                issuerPrivateKey: Certificate.PrivateKey(key))
            return Array(try certificate.serializeAsPEM().pemString.utf8)
        }

        func list(_ entries: [RevocationList.Entry]) throws -> [UInt8] {
            try RevocationList(issuedAt: 1_767_225_600, entries: entries).signed(with: listKey)
        }
    }

    /// One case: the policy, whether the signer certificate is provisioned under its label, and what must happen.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: @Sendable (Situation) throws -> DevicePolicyConfig?
        var provisionSigner = true
        var accepted: Bool
        var sub: UInt32
        var testDescription: String { name }
    }

    static let inside = Date(timeIntervalSince1970: 1_780_000_000)

    static let cases: [Case] = [
        Case(name: "stock device", policy: { _ in nil }, accepted: true, sub: 0),
        Case(name: "stock device with revoking list and late clock", policy: { s in
            .init(checks: [], deviceTime: Date(timeIntervalSince1970: 4_102_444_800), revocationList: try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)]))
        }, accepted: true, sub: 0),
        Case(name: "valid list, miss", policy: { s in
            .init(checks: [.revocation], revocationList: try s.list([.init(signature: [1, 2], reason: .signatureRevoked, time: 5)]))
        }, accepted: true, sub: 0),
        Case(name: "revoked signature", policy: { s in
            .init(checks: [.revocation], revocationList: try s.list([.init(signature: [1, 2], reason: .signatureRevoked, time: 5),
                                                                      .init(signature: s.signature, reason: .signatureRevoked, time: 1_767_312_000)]))
        }, accepted: false, sub: 0x5201),
        Case(name: "revoked profile version", policy: { s in
            .init(checks: [.revocation], revocationList: try s.list([.init(signature: s.signature, reason: .profileVersionRevoked, time: 1_767_312_000)]))
        }, accepted: false, sub: 0x5202),
        Case(name: "no list", policy: { _ in .init(checks: [.revocation]) }, accepted: false, sub: 0x5101),
        Case(name: "truncated list", policy: { s in
            .init(checks: [.revocation], revocationList: Array(try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)]).dropLast(3)))
        }, accepted: false, sub: 0x5102),
        Case(name: "list of version 2", policy: { s in
            var bytes = try s.list([])
            bytes[4] = 2
            return .init(checks: [.revocation], revocationList: bytes)
        }, accepted: false, sub: 0x5103),
        Case(name: "tampered list", policy: { s in
            var bytes = try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)])
            bytes[17] ^= 0x80
            return .init(checks: [.revocation], revocationList: bytes)
        }, accepted: false, sub: 0x5105),
        Case(name: "list by the wrong signer", policy: { _ in
            .init(checks: [.revocation], revocationList: try RevocationList(issuedAt: 1, entries: []).signed(with: P256.Signing.PrivateKey()))
        }, accepted: false, sub: 0x5105),
        Case(name: "no list signer certificate provisioned", policy: { s in
            .init(checks: [.revocation], revocationList: try s.list([]))
        }, provisionSigner: false, accepted: false, sub: 0x5104),
        Case(name: "list signer certificate given as bytes", policy: { s in
            .init(checks: [.revocation], revocationList: try s.list([]), listSignerCertificate: s.listCertificate)
        }, provisionSigner: false, accepted: true, sub: 0),
        Case(name: "certificate not yet valid", policy: { _ in
            .init(checks: [.certificateValidity], deviceTime: Date(timeIntervalSince1970: 1_700_000_000))
        }, accepted: false, sub: 0x5001),
        Case(name: "certificate expired", policy: { _ in
            .init(checks: [.certificateValidity], deviceTime: Date(timeIntervalSince1970: 1_900_000_000))
        }, accepted: false, sub: 0x5002),
        Case(name: "certificate valid", policy: { _ in .init(checks: [.certificateValidity], deviceTime: inside) }, accepted: true, sub: 0),
        Case(name: "no trusted time skips the validity check", policy: { s in
            .init(checks: [.certificateValidity, .revocation], revocationList: try s.list([]))
        }, accepted: true, sub: 0),
        Case(name: "validity refuses before revocation is consulted", policy: { s in
            .init(checks: [.certificateValidity, .revocation], deviceTime: Date(timeIntervalSince1970: 1_900_000_000),
                  revocationList: try s.list([.init(signature: s.signature, reason: .signatureRevoked, time: 1)]))
        }, accepted: false, sub: 0x5002),
    ]

    @Test("the C core and the twin give the stated verdict, sub-code, log lines and job statuses", arguments: cases)
    func crossCheck(_ policyCase: Case) throws {
        let situation = try Situation()
        let policy = try policyCase.policy(situation)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-policy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certs = directory.appendingPathComponent("certs")
        try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
        try Data(situation.image).write(to: directory.appendingPathComponent("image.bin"))
        try Data(situation.certificate).write(to: certs.appendingPathComponent(Self.certfile))
        if policyCase.provisionSigner {
            try Data(situation.listCertificate).write(to: certs.appendingPathComponent(Self.signerLabel))
        }

        let device = try DeviceRun.run(DeviceRun.Inputs(imagePath: directory.appendingPathComponent("image.bin").path,
                                                        jobDocument: situation.jobDocument, certificateDirectory: certs.path,
                                                        devicePolicy: policy)).verdict
        let certificate = situation.certificate, listCertificate = situation.listCertificate, provision = policyCase.provisionSigner
        let twin = DeviceTwin.run(DeviceInputs(profile: .esp32MbedTLS, jobDocument: situation.jobDocument, image: Data(situation.image),
                                               devicePolicy: policy) { label in
            if label == Self.certfile { return .found(certificate) }
            if label == Self.signerLabel, provision { return .found(listCertificate) }
            return .notFound
        })

        let expected = policyCase.accepted ? PALStatus.success : PALStatus(.signatureCheckFailed, sub: policyCase.sub)
        #expect(device.palStatus == expected, "C core")
        #expect(twin.palStatus == expected, "twin")
        #expect(device.outcome == (policyCase.accepted ? .accepted : .rejectedSignature))
        #expect(twin.outcome == device.outcome)
        #expect(twin.devicePolicyRefusal == device.devicePolicyRefusal)
        #expect(device.devicePolicyRefusal?.rawValue == (policyCase.sub == 0 ? nil : policyCase.sub))
        #expect(twin.events == device.events)
        #expect(device.log.contains { $0.text.hasPrefix("Device policy") } == (policy.map { !$0.checks.isEmpty } ?? false))
    }
}
