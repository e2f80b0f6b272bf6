import CodeSigning
import Crypto
import FlashProtocol
import Foundation
import SwiftASN1
import X509
import OTAVerifier
import SignerAPI
import SignerClient

/// What one scenario gives one kind of board: the image as delivered, the job document as the agent receives it, the
/// certificates the board holds, the device's clock, and where each came from (the provenance a report carries).
public struct CellInputs: Sendable {
    public var scenario: String
    /// The bytes the device receives (after the scenario's mutation).
    public var image: [UInt8]
    /// The job document as the agent receives it (an execution message).
    public var jobDocument: [UInt8]
    /// Certificates provisioned on the board, by the name its firmware looks them up under (PEM).
    public var certificates: [String: [UInt8]]
    /// The device's clock for this scenario.
    public var deviceTime: Date
    /// The running version before the update, as appFirmwareVersion.
    public var runningVersion: UInt32
    /// The update's version, as appFirmwareVersion (what runs after the board activates it).
    public var updateVersion: UInt32
    public var signingJobId: String
    public var profileName: String
    public var profileVersionArn: String
    public var platformId: String
    /// SHA-256 of the certificate that signed, and of each provisioned one.
    public var signerCertificateSHA256: String
    public var provisionedCertificateSHA256: [String: String]
    /// Deliveries before the cell's own, on the same device (a tampered image to count security alerts).
    public var preludes: [Delivery] = []
    /// A CC3220SF's security-alert count when the cell's own delivery arrives (0 after the format every cell starts
    /// with; one per prelude, each a wrong signature).
    public var securityAlertsBefore = 0

    /// One update as the device receives it.
    public struct Delivery: Sendable {
        public var image: [UInt8]
        public var jobDocument: [UInt8]
    }

    public var imageSHA256: String { Self.sha256(image) }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

/// Inputs for every (kind of board, scenario) of a run, plus the base image each board runs before an update, and the
/// signer facts (revocations, signing times) captured once every scenario has made its calls.
public struct RunInputs: Sendable {
    /// By `BoardKind.key`, then scenario name.
    public var cells: [String: [String: CellInputs]]
    /// The application each board runs before each update (version `Recipe.baseVersion`).
    public var baseImage: [UInt8]
    public var facts: SignerFacts
    /// The revocation list made from the facts (format in Boards/README.md), signed by the run's list signer, and
    /// that signer's certificate (PEM): provisioned on every board; a board whose firmware enforces revocation
    /// checks it.
    public var revocationList: [UInt8]
    public var listSignerCertificate: [UInt8]
    /// The CC3220SF's trusted-root catalog for the run (file name → DER): the root the run made. The executable puts
    /// it where the simulated boards' network processor reads its catalog; the twin gets the same.
    public var rootCatalog: [String: [UInt8]] = [:]

    public func inputs(for kind: BoardKind, scenario: String) -> CellInputs? { cells[kind.key]?[scenario] }
}

/// What decides how a board verifies, so boards that share it share their inputs.
public struct BoardKind: Hashable, Sendable {
    public var pal: String
    public var signatureKey: String

    public init(pal: String, signatureKey: String) {
        self.pal = pal
        self.signatureKey = signatureKey
    }

    public var key: String { "\(pal)/\(signatureKey)" }

    /// The signing platform whose signatures this firmware reads, and one whose it does not.
    var platforms: (matching: String, other: String)? {
        switch signatureKey {
        case "sig-sha256-ecdsa": ("AmazonFreeRTOS-Default", "AmazonFreeRTOS-TI-CC3220SF")
        case "sig-sha1-rsa": ("AmazonFreeRTOS-TI-CC3220SF", "AmazonFreeRTOS-Default")
        default: nil
        }
    }
}

/// Makes a run's inputs through the signing service, the way a user's pipeline would: certificates imported into
/// ACM, images uploaded to a versioned bucket, one signing profile per scenario and kind (so one scenario's
/// revocation never touches another's), StartSigningJob, then the scenario's revocations and mutations.
public struct ScenarioInputFactory {
    public var client: SignerClient
    /// The run's clock: the device clock before any scenario moves it.
    public var deviceClock: Date
    public var signingTimeout: Double
    public var bucket = "otarig-rig"
    /// A tag for profile names, so runs against a shared service do not collide.
    public var runTag: String
    /// Progress for people ("signing tampered-payload for esp32-mbedtls").
    public var progress: (String) -> Void

    /// The label the boards' certificate is provisioned under (the job's certfile).
    public static let certfile = "codesign.crt"
    public static let thing = "sim-esp32"

    public init(client: SignerClient, deviceClock: Date, signingTimeout: Double, runTag: String, progress: @escaping (String) -> Void) {
        self.client = client
        self.deviceClock = deviceClock
        self.signingTimeout = signingTimeout
        self.runTag = runTag
        self.progress = progress
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A certificate and its key, imported into the service.
    struct Material {
        var certificatePEM: String
        var arn: String
        var sha256: String
    }

    public func make(kinds: [BoardKind], scenarios: [Scenario]) async throws(Failure) -> RunInputs {
        do {
            try await client.createVersionedBucket(bucket)
        } catch {
            throw Failure(description: "cannot prepare the bucket '\(bucket)' on the signing service: \(error.message)")
        }
        let base = ESP32AppImage.build(version: Recipe.baseVersion, project: "otarig-rig", code: Self.code(seed: 0, length: 8 * 1024))
        var cells: [String: [String: CellInputs]] = [:]
        var rootCatalog: [String: [UInt8]] = [:]
        for kind in kinds {
            guard let platforms = kind.platforms else {
                throw Failure(description: "no signing platform signs for the signature key '\(kind.signatureKey)' (\(kind.pal))")
            }
            let wall = Date()
            let chain: Chain? = kind.pal == Scenario.cc3220 ? try makeChain(wall: wall) : nil
            if let chain { rootCatalog[Self.catalogRootFile] = chain.rootDER }
            var materials: [String: Material] = [:]
            func material(_ name: String, key: SigningKey.Spec, notBefore: Date, days: Int, issuer: CertificateFactory.Issued? = nil) async throws(Failure) -> Material {
                if let made = materials[name] { return made }
                // On a CC3220SF every signer is issued by the chain's intermediate with SHA-1, as TI's recipe does
                // (awsdocs ota-code-sign-cert-ti.md); elsewhere self-signed.
                let made = try await importCertificate(commonName: "otarig rig \(name) (\(kind.key))", key: key, notBefore: notBefore, days: days,
                                                       issuer: issuer ?? chain?.intermediate)
                materials[name] = made
                return made
            }
            let keySpec: SigningKey.Spec = kind.signatureKey.hasSuffix("rsa") ? .rsa2048 : .ecP256
            let otherSpec: SigningKey.Spec = kind.signatureKey.hasSuffix("rsa") ? .ecP256 : .rsa2048
            let provisioned = try await material("provisioned", key: keySpec, notBefore: wall.addingTimeInterval(-86_400), days: 3650)
            for (index, scenario) in scenarios.enumerated() where scenario.applies(to: kind.pal) {
                progress("signing \(scenario.name) for \(kind.pal)")
                let recipe = scenario.recipe
                let signer: Material
                switch recipe.signer {
                case .provisioned: signer = provisioned
                case .another: signer = try await material("another", key: keySpec, notBefore: wall.addingTimeInterval(-86_400), days: 3650)
                case .expiredAtDeviceClock: signer = try await material("expiring", key: keySpec, notBefore: wall.addingTimeInterval(-86_400), days: 2)
                case .notYetValidAtDeviceClock: signer = try await material("recent", key: keySpec, notBefore: wall.addingTimeInterval(-3600), days: 3650)
                case .unknownRoot:
                    guard let unknown = chain?.unknownRoot else { throw Failure(description: "\(scenario.name): the unknown-root signer needs a CC3220SF chain") }
                    signer = try await material("unknown-root", key: keySpec, notBefore: wall.addingTimeInterval(-86_400), days: 3650, issuer: unknown)
                case .rsa4096: signer = try await material("rsa-4096", key: .rsa4096, notBefore: wall.addingTimeInterval(-86_400), days: 3650)
                }
                let platform: String
                let signing: Material
                if recipe.wrongAlgorithm {
                    platform = platforms.other
                    // The other platform's key needs no chain: the board never gets to check one.
                    if let made = materials["other-algorithm"] {
                        signing = made
                    } else {
                        signing = try await importCertificate(commonName: "otarig rig other-algorithm (\(kind.key))", key: otherSpec,
                                                              notBefore: wall.addingTimeInterval(-86_400), days: 3650, issuer: nil)
                        materials["other-algorithm"] = signing
                    }
                } else {
                    platform = platforms.matching
                    signing = signer
                }
                let image = recipe.imageSize(pal: kind.pal).map { Self.image(version: recipe.version, size: $0) }
                    ?? ESP32AppImage.build(version: recipe.version, project: "otarig-rig", code: Self.code(seed: UInt64(index + 1), length: 24 * 1024))
                let signed = try await sign(image: image, scenario: scenario, kind: kind, platform: platform, material: signing)
                // The board holds the certificate that signed, except where the scenario is about it holding another.
                let held = recipe.signer == .another || recipe.wrongAlgorithm ? provisioned : signing
                var cell = try mutate(signed, recipe: recipe, provisioned: held, signer: signing)
                if let chain {
                    // The SimpleLink file system holds certificates as DER, the intermediate under its Issued-To name.
                    cell.certificates = cell.certificates.mapValues { Self.der(fromPEM: $0) ?? $0 }
                    cell.certificates[chain.intermediateName] = recipe.mutation == .forgedIntermediate ? chain.forgedIntermediateDER : chain.intermediateDER
                }
                if recipe.tamperedDeliveriesBefore > 0 {
                    var tampered = cell.image
                    tampered[min(4096, tampered.count - 1)] ^= 0x01
                    cell.preludes = Array(repeating: CellInputs.Delivery(image: tampered, jobDocument: cell.jobDocument), count: recipe.tamperedDeliveriesBefore)
                    // Each a wrong signature with a good chain: one security alert (spec/simplelink-close.md row 9).
                    cell.securityAlertsBefore = chain == nil ? 0 : recipe.tamperedDeliveriesBefore
                }
                cells[kind.key, default: [:]][scenario.name] = cell
            }
        }
        let facts: SignerFacts
        do {
            facts = try await SignerFactsCapture.capture(client) { _ in }
        } catch {
            throw Failure(description: "cannot read the revocation records back from the signing service: \(error.message)")
        }
        // The revocation list, from the service's records, signed by a key made for this run.
        let list: [UInt8]
        let listSigner: String
        do {
            let key = P256.Signing.PrivateKey()
            list = try RevocationList(facts: facts, issuedAt: Date()).signed(with: key)
            listSigner = try CertificateFactory.codeSigningCertificate(commonName: "otarig rig revocation list signer", key: .p256(key),
                                                                         notBefore: Date().addingTimeInterval(-86_400), days: 3650).certificatePEM
        } catch {
            throw Failure(description: "cannot sign the run's revocation list: \(error)")
        }
        return RunInputs(cells: cells, baseImage: base, facts: facts, revocationList: list, listSignerCertificate: Array(listSigner.utf8),
                         rootCatalog: rootCatalog)
    }

    /// What the service gave back for one scenario, before the mutation.
    struct Signed {
        var scenario: Scenario
        var image: [UInt8]
        var signedObject: SignedObjectDocument
        var jobId: String
        var profileName: String
        var profileVersionArn: String
        var platformId: String
    }

    func sign(image: [UInt8], scenario: Scenario, kind: BoardKind, platform: String, material: Material) async throws(Failure) -> Signed {
        let recipe = scenario.recipe
        let profileName = "otarig_\(runTag)_\(scenario.name)_\(kind.pal)".replacingOccurrences(of: "-", with: "_")
        do {
            let key = "images/\(runTag)/\(kind.pal)/\(scenario.name).bin"
            let version = try await client.putObject(bucket: bucket, key: key, bytes: image)
            let profile = try await client.putSigningProfile(name: profileName, PutSigningProfileRequest(
                signingMaterial: SigningMaterial(certificateArn: material.arn),
                signatureValidityPeriod: recipe.signatureValidityDays.map { SignatureValidityPeriod(value: $0, type: .days) },
                platformId: platform, signingParameters: ["certname": Self.certfile]))
            let started = try await client.startSigningJob(StartSigningJobRequest(
                source: Source(s3: S3Source(bucketName: bucket, key: key, version: version)),
                destination: Destination(s3: S3Destination(bucketName: bucket, prefix: "signed/\(runTag)/")),
                profileName: profileName, clientRequestToken: UUID().uuidString))
            let job = try await client.waitForSigningJob(jobId: started.jobId, timeout: signingTimeout)
            guard job.status == .succeeded, let location = job.signedObject?.s3, let objectKey = location.key else {
                throw Failure(description: "signing job \(started.jobId) for \(scenario.name) ended \(job.status.rawValue): \(job.statusReason ?? "no reason given")")
            }
            let signedObject = try SignedObjectDocument(decoding: Data(try await client.getObject(bucket: location.bucketName ?? bucket, key: objectKey)))
            switch recipe.revocation {
            case .signature:
                try await client.revokeSignature(jobId: started.jobId, reason: "otarig scenario \(scenario.name)")
            case .profileBeforeSigning:
                let signedAt = job.completedAt ?? job.createdAt
                try await client.revokeSigningProfile(name: profileName, profileVersion: profile.profileVersion,
                                                      effectiveTime: signedAt.addingTimeInterval(-3600), reason: "otarig scenario \(scenario.name)")
            case .profileAfterSigning:
                // Effective strictly after the signing time, which the service records to the second; it may not
                // lie in the future, so wait until it is past.
                let signedAt = job.completedAt ?? job.createdAt
                let effective = Date(timeIntervalSince1970: (signedAt.timeIntervalSince1970).rounded(.down) + 1)
                let wait = effective.timeIntervalSinceNow + 0.05
                if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
                try await client.revokeSigningProfile(name: profileName, profileVersion: profile.profileVersion,
                                                      effectiveTime: effective, reason: "otarig scenario \(scenario.name)")
            case nil:
                break
            }
            return Signed(scenario: scenario, image: image, signedObject: signedObject, jobId: started.jobId, profileName: profileName,
                          profileVersionArn: profile.profileVersionArn, platformId: platform)
        } catch let failure as Failure {
            throw failure
        } catch let failure as SignerClient.Failure {
            throw Failure(description: "\(scenario.name): the signing service refused: \(failure.message)")
        } catch {
            throw Failure(description: "\(scenario.name): the signed object does not decode: \(error)")
        }
    }

    func mutate(_ signed: Signed, recipe: Recipe, provisioned: Material, signer: Material) throws(Failure) -> CellInputs {
        var image = signed.image
        var certfile = Self.certfile
        var file: OTAJobDocument.File
        do {
            let document = try OTAJobDocument(signedObject: signed.signedObject, certname: Self.certfile, streamname: "AFR_OTA-otarig-\(signed.scenario.name)")
            file = document.files[0]
        } catch {
            throw Failure(description: "\(signed.scenario.name): no job document from the signed object: \(error)")
        }
        var removed: String?
        switch recipe.mutation {
        case .flipImageByte(let offset):
            image[min(offset, image.count - 1)] ^= 0x01
        case .truncateImage(let bytes):
            image.removeLast(min(bytes, image.count - 1))
        case .fileSizeDelta(let delta):
            file.filesize += delta
        case .signatureNotBase64:
            file.signature = "not*base64*" + String(file.signature.dropFirst(11))
        case .removeJobMember(let member):
            removed = member
        case .certfileNotProvisioned:
            certfile = "never-provisioned.crt"
            file.certfile = certfile
        case .forgedIntermediate, nil:
            // What the board holds changes, not what it receives (`make`).
            break
        }
        var text = OTAJobDocument(streamname: "AFR_OTA-otarig-\(signed.scenario.name)", files: [file]).encoded()
        if let removed {
            // The member and its value, as a broken pipeline would leave the document.
            if let range = text.range(of: "\"\(removed)\":"),
               let end = text[range.upperBound...].firstIndex(where: { $0 == "," || $0 == "}" }) {
                let next = text.index(after: end)
                text.removeSubrange(range.lowerBound..<(text[end] == "," ? next : end))
            }
        }
        let thing = Self.thing
        let delivered = JobExecution.asExecutionMessage(Array(text.utf8), jobId: "AFR_OTA-otarig-\(signed.scenario.name)", clientToken: "0:\(thing)")
        return CellInputs(
            scenario: signed.scenario.name, image: image, jobDocument: delivered,
            certificates: [Self.certfile: Array(provisioned.certificatePEM.utf8)],
            deviceTime: deviceClock.addingTimeInterval(recipe.deviceClockOffset),
            runningVersion: AppVersion.word(Recipe.baseVersion) ?? 0x0100_0000, updateVersion: AppVersion.word(recipe.version) ?? 0,
            signingJobId: signed.jobId, profileName: signed.profileName, profileVersionArn: signed.profileVersionArn,
            platformId: signed.platformId, signerCertificateSHA256: signer.sha256,
            provisionedCertificateSHA256: [Self.certfile: provisioned.sha256])
    }

    /// A certificate and its key imported into ACM: self-signed, or issued by `issuer` with SHA-1 (the CC3220SF's
    /// signer, whose certificate TI's recipe signs with SHA-1).
    func importCertificate(commonName: String, key spec: SigningKey.Spec, notBefore: Date, days: Int,
                           issuer: CertificateFactory.Issued? = nil) async throws(Failure) -> Material {
        do {
            let key = try SigningKey.generate(spec)
            let issued = try CertificateFactory.codeSigningCertificate(commonName: commonName, key: key, notBefore: notBefore, days: days,
                                                                       issuer: issuer.map { ($0.certificate, $0.key) },
                                                                       signatureHash: issuer == nil ? .sha256 : .insecureSHA1)
            let arn = try await client.importCertificate(certificatePEM: issued.certificatePEM, privateKeyPEM: issued.keyPEM)
            var der = DER.Serializer()
            try der.serialize(issued.certificate)
            return Material(certificatePEM: issued.certificatePEM, arn: arn, sha256: CellInputs.sha256(der.serializedBytes))
        } catch let failure as SignerClient.Failure {
            throw Failure(description: "ACM ImportCertificate refused the rig's certificate '\(commonName)': \(failure.message)")
        } catch {
            throw Failure(description: "cannot make the certificate '\(commonName)': \(error)")
        }
    }

    /// The catalog file the run's CC3220SF root goes in.
    public static let catalogRootFile = "otarig-rig-root.der"

    /// A CC3220SF's signing chain for the run, as TI lays one out (shared/reference/cc3220-bootloader.md §5.3): a
    /// root for the catalog, an intermediate stored in the file system under its Issued-To name (its commonName),
    /// and, for the scenarios about the chain, a root nobody trusts and an intermediate with the real one's subject
    /// and key signed by an impostor root of the real root's name.
    struct Chain {
        var rootDER: [UInt8]
        var intermediate: CertificateFactory.Issued
        var intermediateName: String
        var intermediateDER: [UInt8]
        var forgedIntermediateDER: [UInt8]
        var unknownRoot: CertificateFactory.Issued
    }

    func makeChain(wall: Date) throws(Failure) -> Chain {
        do {
            let notBefore = wall.addingTimeInterval(-2 * 86_400)
            let rootName = "otarig rig root \(runTag)"
            let root = try CertificateFactory.certificateAuthority(commonName: rootName, key: try SigningKey.generate(.rsa2048), notBefore: notBefore, days: 3650)
            let intermediateName = "otarig-rig-ca-\(runTag)"
            let intermediateKey = try SigningKey.generate(.rsa2048)
            let intermediate = try CertificateFactory.certificateAuthority(commonName: intermediateName, key: intermediateKey, notBefore: notBefore, days: 3650,
                                                                          issuer: (root.certificate, root.key))
            let impostor = try CertificateFactory.certificateAuthority(commonName: rootName, key: try SigningKey.generate(.rsa2048), notBefore: notBefore, days: 3650)
            let forged = try CertificateFactory.certificateAuthority(commonName: intermediateName, key: intermediateKey, notBefore: notBefore, days: 3650,
                                                                    issuer: (impostor.certificate, impostor.key))
            let unknownRoot = try CertificateFactory.certificateAuthority(commonName: "otarig rig untrusted root \(runTag)", key: try SigningKey.generate(.rsa2048),
                                                                          notBefore: notBefore, days: 3650)
            func der(_ issued: CertificateFactory.Issued) throws -> [UInt8] {
                var serializer = DER.Serializer()
                try serializer.serialize(issued.certificate)
                return serializer.serializedBytes
            }
            return Chain(rootDER: try der(root), intermediate: intermediate, intermediateName: intermediateName, intermediateDER: try der(intermediate),
                         forgedIntermediateDER: try der(forged), unknownRoot: unknownRoot)
        } catch {
            throw Failure(description: "cannot make the run's CC3220SF certificate chain: \(error)")
        }
    }

    /// The DER of a PEM certificate (nil when the bytes are not PEM).
    static func der(fromPEM bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("-----BEGIN ") else { return nil }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body.trimmingCharacters(in: .whitespacesAndNewlines), options: .ignoreUnknownCharacters).map(Array.init)
    }

    /// An app image of exactly `size` bytes that deflates to almost nothing: zero code (a multiple of 16 bytes, which
    /// adds exactly its length to the image), then 0xFF, as erased flash, up to `size`.
    static func image(version: String, size: Int) -> [UInt8] {
        let overhead = ESP32AppImage.build(version: version, project: "otarig-rig", code: []).count
        let code = [UInt8](repeating: 0, count: max(0, size - overhead) / 16 * 16)
        let image = ESP32AppImage.build(version: version, project: "otarig-rig", code: code)
        return image + [UInt8](repeating: 0xFF, count: max(0, size - image.count))
    }

    /// Deterministic filler code for an image: a different payload per scenario, the same on every run.
    static func code(seed: UInt64, length: Int) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        while bytes.count < length {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            withUnsafeBytes(of: state.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(length))
    }
}
