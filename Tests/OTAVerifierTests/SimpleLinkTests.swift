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
        #expect(good.simpleLink?.steps == [.init(certificate: good.simpleLink?.chain.first ?? "", issuer: good.simpleLink?.chain.last ?? "",
                                                 lookup: .catalogRoot(file: "root0.pem"))])
        #expect(good.simpleLink?.securityAlertsAfter == 0)
        #expect(good.log.contains { $0.text == "Authenticating and closing file." })

        let bad = Self.run(signature: v.invalid, certificate: v.signerDER, catalog: catalog, image: v.message)
        #expect(bad.outcome == .rejectedSignature)
        #expect(bad.palStatus.rawValue == 0xe3ff_d7cf)
        #expect(bad.simpleLink?.error == .wrongSignatureSecurityAlert)
        #expect(bad.simpleLink?.securityAlertsAfter == 1)
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

    // MARK: the chain as TI lays it out: each issuer a file named by its "Issued To" commonName

    /// Tests/CodeSigningTests/Fixtures/freertos/cc3220-chain, made by its make.sh with openssl: an RSA-1024 signer
    /// (SHA-1 signed) issued by an intermediate (SHA-1 signed) issued by a self-signed root (SHA-256).
    struct Chain {
        static let directory = TwinProfileTests.fixtures.appendingPathComponent("cc3220-chain")
        static func file(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: directory.appendingPathComponent(name))) }
        static let intermediateName = "otarig fixture intermediate"

        var root: [UInt8]
        var impostorRoot: [UInt8]
        var intermediate: [UInt8]
        var signer: [UInt8]
        var message: [UInt8]
        var signature: [UInt8]

        init() throws {
            root = try Self.file("root.der")
            impostorRoot = try Self.file("impostor-root.der")
            intermediate = try Self.file(Self.intermediateName)
            signer = try Self.file("signer.der")
            message = try Self.file("message.bin")
            signature = try Self.file("message.sig")
        }

        /// The file system: the signer under signer.der, the intermediate under its commonName.
        var files: [String: [UInt8]] { ["signer.der": signer, Self.intermediateName: intermediate] }
    }

    static func runChain(files: [String: [UInt8]], catalog: RootCatalog, signature: [UInt8], image: [UInt8], certfile: String = "signer.der",
                         alerts: Int = 0, threshold: Int = 15) -> DeviceVerdict {
        let inputs = DeviceInputs(profile: .cc3220SimpleLink,
                                  jobDocument: TwinProfileTests.job(key: "sig-sha1-rsa", signature: signature, certfile: certfile, size: image.count),
                                  image: Data(image), rootCatalog: catalog, fileSystem: { files[$0] }, securityAlerts: alerts,
                                  securityAlertThreshold: threshold) { _ in .notFound }
        return DeviceTwin.run(inputs)
    }

    static func fingerprint(_ der: [UInt8]) -> String { Insecure.SHA1.hash(data: der).map { String(format: "%02x", $0) }.joined() }

    @Test("an RSA-1024 signer chains through the intermediate file named by its commonName to the catalog root")
    func chainThroughIssuerFile() throws {
        let c = try Chain()
        let catalog = try RootCatalog.load(files: [("root.der", c.root)])
        let verdict = Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message)
        #expect(verdict.accepted)
        #expect(verdict.palStatus == .success)
        let evidence = try #require(verdict.simpleLink)
        #expect(evidence.chain == ["CN=otarig fixture signer", "CN=otarig fixture intermediate", "CN=otarig fixture root"])
        #expect(evidence.steps.map(\.lookup) == [.file(name: Chain.intermediateName, found: true), .catalogRoot(file: "root.der")])
        #expect(evidence.root == "root.der")
        #expect(evidence.signerKey == "RSA-1024")
        #expect(evidence.modulusBytes == 128)
        #expect(verdict.signerKey == "RSA-1024")

        // A leading "/" is ignored [spec]; the same chain found from "/signer.der".
        #expect(Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message, certfile: "/signer.der").accepted)
        // A name with ".." is no file [spec]: WRONG_CERTIFICATE_FILE_NAME.
        let climbing = Self.runChain(files: c.files.merging(["../signer.der": c.signer]) { $1 }, catalog: catalog, signature: c.signature,
                                     image: c.message, certfile: "../signer.der")
        #expect(climbing.simpleLink?.error == .wrongCertificateFileName)
    }

    @Test("each chain fault gives the spec's code: missing issuer file, PEM issuer, impostor root, revocations, old concatenated layout")
    func chainFaults() throws {
        let c = try Chain()
        let catalog = try RootCatalog.load(files: [("root.der", c.root)])
        func code(_ files: [String: [UInt8]], _ catalog: RootCatalog) -> SimpleLinkError? {
            Self.runChain(files: files, catalog: catalog, signature: c.signature, image: c.message).simpleLink?.error
        }

        // Step 6b: no file under the issuer's commonName: ROOT_CA_IS_UNKOWN, with the file name in the evidence.
        let missing = Self.runChain(files: ["signer.der": c.signer], catalog: catalog, signature: c.signature, image: c.message)
        #expect(missing.simpleLink?.error == .rootCAIsUnknown)
        #expect(missing.palStatus.rawValue == 0xe3ff_d7d1)
        #expect(missing.simpleLink?.steps.map(\.lookup) == [.file(name: Chain.intermediateName, found: false)])
        // Step 6b: the issuer file is not exactly one DER certificate.
        let pem = Array("-----BEGIN CERTIFICATE-----\n\(Data(c.intermediate).base64EncodedString(options: .lineLength64Characters))\n-----END CERTIFICATE-----\n".utf8)
        #expect(code(["signer.der": c.signer, Chain.intermediateName: pem], catalog) == .certificateChainErrorSecurityAlert)
        // Step 6b: the file under the name holds another certificate (the root): its subject is not the issuer.
        #expect(code(["signer.der": c.signer, Chain.intermediateName: c.root], catalog) == .certificateChainErrorSecurityAlert)
        // Step 6a: a catalog root with the intermediate's issuer name but another key.
        let impostor = try RootCatalog.load(files: [("impostor.der", c.impostorRoot)])
        let wrongKey = Self.runChain(files: c.files, catalog: impostor, signature: c.signature, image: c.message)
        #expect(wrongKey.simpleLink?.error == .certificateChainErrorSecurityAlert)
        #expect(wrongKey.simpleLink?.steps.last?.lookup == .catalogRoot(file: nil))
        // ... and with both roots of that name in the catalog, the one whose key verifies completes the chain.
        let both = try RootCatalog.load(files: [("impostor.der", c.impostorRoot), ("root.der", c.root)])
        #expect(code(c.files, both) == nil)
        // Step 6b: the root stored as a file instead of in the catalog: a self-signed root not in the catalog.
        #expect(code(c.files.merging(["otarig fixture root": c.root]) { $1 }, impostor) == .certificateChainErrorSecurityAlert)
        let unknownCatalog = try RootCatalog.load(files: [("signer.der", c.signer)])
        #expect(code(c.files.merging(["otarig fixture root": c.root]) { $1 }, unknownCatalog) == .rootCAIsUnknown)
        // Step 5: the old layout (signer then intermediate in one file) is not exactly one DER certificate.
        #expect(code(["signer.der": c.signer + c.intermediate, Chain.intermediateName: c.intermediate], catalog) == .certificateChainErrorSecurityAlert)
        // Step 7: revocation covers the signer, the issuer file and the catalog root.
        for revoked in [c.signer, c.intermediate, c.root] {
            let list = try RootCatalog.load(files: [("root.der", c.root)], revocationList: Self.fingerprint(revoked) + "\n")
            #expect(code(c.files, list) == .certificateInTheChainRevokedSecurityAlert)
        }
        // Step 8 after 7: a 256-byte signature for the 1024-bit key is ILLEGAL_SIGNATURE.
        let long = Self.runChain(files: c.files, catalog: catalog, signature: c.signature + c.signature, image: c.message)
        #expect(long.simpleLink?.error == .illegalSignature)
        // Step 2: a 512-byte signature (RSA-4096) never reaches the close on a stock agent (OTA_MAX_SIGNATURE_SIZE is
        // 384 bytes); an agent built with a larger buffer hands it over and the close refuses it before any lookup.
        let huge = [UInt8](repeating: 1, count: 512)
        #expect(Self.runChain(files: c.files, catalog: catalog, signature: huge, image: c.message).outcome == .rejectedJobDocument)
        let inputs = DeviceInputs(profile: .cc3220SimpleLink,
                                  jobDocument: TwinProfileTests.job(key: "sig-sha1-rsa", signature: huge, certfile: "signer.der", size: c.message.count),
                                  image: Data(c.message), limits: JobDocumentLimits(maxSignatureSize: 512), rootCatalog: catalog,
                                  fileSystem: { _ in nil }) { _ in .notFound }
        let refused = DeviceTwin.run(inputs)
        #expect(refused.simpleLink?.error == .wrongSignatureOrCertificateNameLength)
        #expect(refused.simpleLink?.certificateFileFound == nil)
    }

    @Test("the security-alert lock: alerts count, the threshold locks, a locked device returns -28674 as OtaPalFileClose 0xeeff8ffe")
    func securityAlertLock() throws {
        let c = try Chain()
        let catalog = try RootCatalog.load(files: [("root.der", c.root)])
        var tampered = c.message
        tampered[0] ^= 0x80

        // The 15th alert: its own code, and the count reaches the threshold.
        let last = Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: tampered, alerts: 14)
        #expect(last.simpleLink?.error == .wrongSignatureSecurityAlert)
        #expect(last.palStatus.rawValue == 0xe3ff_d7cf)
        #expect(last.simpleLink?.securityAlertsAfter == 15)
        #expect(last.simpleLink?.lockedAfter == true)
        // A success or a code that is no alert leaves the count alone.
        #expect(Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message, alerts: 14).simpleLink?.securityAlertsAfter == 14)
        #expect(Self.runChain(files: ["signer.der": c.signer], catalog: catalog, signature: c.signature, image: c.message, alerts: 3).simpleLink?.securityAlertsAfter == 3)

        // Locked: even a good image is refused, nothing is checked, nothing counted.
        let locked = Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message, alerts: 15)
        #expect(locked.simpleLink?.error == .deviceLockedSecurityAlert)
        #expect(locked.palStatus.rawValue == 0xeeff_8ffe)
        #expect(locked.palStatus.mainName == "OtaPalFileClose")
        #expect(locked.simpleLink?.securityAlertsAfter == 15)
        #expect(locked.simpleLink?.steps.isEmpty == true)
        #expect(locked.accepted == false)
        #expect(locked.log.contains { $0.text == "Failed to close the OTA file: Error=(OtaPalFileClose:0xeeff8ffe)" })
        #expect(locked.statuses.last?.payload == #"{"status":"FAILED","statusDetails":{"reason":"0x000000ee: 0x00ff8ffe"}}"#)
        // Another threshold.
        #expect(Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message, alerts: 2, threshold: 2).simpleLink?.error == .deviceLockedSecurityAlert)
        #expect(Self.runChain(files: c.files, catalog: catalog, signature: c.signature, image: c.message, alerts: 1, threshold: 2).accepted)
    }

    @Test("the PAL maps the ten FS codes to SignatureCheckFailed and any other to FileClose, sub-code = code & 0xFFFFFF")
    func palMapping() {
        // otaPal_CloseFile's switch (aws/amazon-freertos vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c).
        let tenCodes: Set<Int32> = [-10289, -10290, -10273, -10274, -10287, -10292, -10341, -10363, -10372, -10242]
        for error in SimpleLinkError.allCases {
            let main: UInt32 = tenCodes.contains(error.rawValue) ? 0xe3 : 0xee
            #expect(error.palStatus.rawValue == main << 24 | (UInt32(bitPattern: error.rawValue) & 0xFF_FFFF), "\(error.name)")
        }
        #expect(Set(SimpleLinkError.allCases.filter(\.isSecurityAlert).map(\.rawValue)) == [-10289, -10292, -10273])
    }

    @Test("explain walks the chain: each issuer file looked up, found or not, the catalog root, and the alert count")
    func explainShowsTheChainSteps() throws {
        let c = try Chain()
        let catalog = try RootCatalog.load(files: [("root.der", c.root)])
        func explain(_ files: [String: [UInt8]], alerts: Int) -> Explanation {
            let inputs = DeviceInputs(profile: .cc3220SimpleLink,
                                      jobDocument: TwinProfileTests.job(key: "sig-sha1-rsa", signature: c.signature, certfile: "signer.der", size: c.message.count),
                                      image: Data(c.message), rootCatalog: catalog, fileSystem: { files[$0] }, securityAlerts: alerts) { _ in .notFound }
            return Explainer.explain(inputs, DeviceTwin.run(inputs), signatureText: nil, candidates: [])
        }
        let good = explain(c.files, alerts: 2)
        #expect(good.failedStep == nil)
        let alerts = try #require(good.steps.first { $0.name == "security alerts" })
        #expect(alerts.result == .ok)
        #expect(alerts.lines.first?.hasPrefix("2 security alerts counted before this close, threshold 15") == true)
        let certificate = try #require(good.steps.first { $0.name == "certificate" })
        #expect(certificate.lines.contains { $0.contains("looked up the file 'otarig fixture intermediate' (its commonName): found") })
        #expect(certificate.lines.contains { $0.contains("a catalog root of that name (from 'root.der') verifies its signature") })

        let missing = explain(["signer.der": c.signer], alerts: 0)
        #expect(missing.failedStep?.name == "certificate")
        #expect(missing.failedStep?.lines.contains { $0.contains("'otarig fixture intermediate' (its commonName): not found") } == true)

        let locked = explain(c.files, alerts: 15)
        #expect(locked.failedStep?.name == "security alerts")
        #expect(locked.steps.first { $0.name == "certificate" }?.result == .notReached)
    }
}
