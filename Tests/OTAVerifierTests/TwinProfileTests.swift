import Foundation
import Testing
@testable import OTAVerifier

/// The public FreeRTOS vectors (Tests/CodeSigningTests/Fixtures/freertos, whose PROVENANCE.md names the upstream commits)
/// through the whole twin, per profile, and the policy layer on signer facts.
/// The PAL qualification vectors (`ota_pal_signature_vectors.json`): an 84-byte message with valid and invalid
/// signatures per algorithm and the signer certificate each verifies against.
struct PALVectorFile: Decodable {
    struct Hex: Decodable { let hex: String }
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let jobDocKey: String
        let signerCertPemFile: String
        let validSignature: Hex
        let invalidSignature: Hex
        var testDescription: String { id }

        enum CodingKeys: String, CodingKey {
            case id, jobDocKey = "job_doc_key", signerCertPemFile = "signer_cert_pem_file", validSignature = "valid_signature"
            case invalidSignature = "invalid_signature"
        }
    }

    let message: Hex
    let vectors: [Vector]

    static func load() throws -> PALVectorFile {
        try JSONDecoder().decode(PALVectorFile.self, from: Data(contentsOf: TwinProfileTests.fixtures.appendingPathComponent("ota_pal_signature_vectors.json")))
    }

    /// Each vector in each profile it is run in, for `arguments:`.
    static func cases() throws -> [(Vector, PALProfile)] {
        try load().vectors.flatMap { vector in [PALProfile.esp32MbedTLS, .posixOpenSSL].map { (vector, $0) } }
    }
}

/// otarig's own divergence vectors (`derived_divergence_vectors.json`): DER variants of the ECDSA vector and
/// certificate variants, with what mbedTLS and OpenSSL each said of them.
struct DivergenceFile: Decodable {
    struct SignatureCase: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let sigHex: String
        let mbedtls: String
        let openssl: String
        var testDescription: String { id }
        enum CodingKeys: String, CodingKey { case id, sigHex = "sig_hex", mbedtls, openssl }
    }

    struct CertificateCase: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let certPem: String
        let mbedtls: String
        let openssl: String
        var testDescription: String { id }
        enum CodingKeys: String, CodingKey { case id, certPem = "cert_pem", mbedtls, openssl }
    }

    struct Signatures: Decodable { let cases: [SignatureCase] }
    struct Certificates: Decodable {
        let signatureDerHex: String
        let cases: [CertificateCase]
        enum CodingKeys: String, CodingKey { case signatureDerHex = "signature_der_hex", cases }
    }

    let messageHex: String
    let signatures: Signatures
    let certificates: Certificates

    enum CodingKeys: String, CodingKey {
        case messageHex = "message_hex", signatures = "A_signature_encoding_variants", certificates = "B_certificate_variants"
    }

    static func load() throws -> DivergenceFile {
        try JSONDecoder().decode(DivergenceFile.self, from: Data(contentsOf: TwinProfileTests.divergences))
    }
}

/// The public FreeRTOS vectors (copied with provenance into Tests/CodeSigningTests/Fixtures) through the whole twin,
/// per profile, and the policy layer on signer facts.
@Suite("Twin profiles on the public vectors")
struct TwinProfileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CodeSigningTests/Fixtures/freertos").standardizedFileURL
    static let divergences = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Firmware/test/vectors/derived_divergence_vectors.json").standardizedFileURL

    static func json(_ url: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func bytes(hex: String) throws -> [UInt8] {
        try #require(Hex.bytes(hex), "not hex: \(hex.prefix(20))…")
    }

    static func pem(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent("pem/\(name)")))
    }

    static func job(key: String, signature: [UInt8], certfile: String, size: Int) -> [UInt8] {
        let b64 = Data(signature).base64EncodedString()
        return Array(#"{"execution":{"jobId":"AFR_OTA-vector","jobDocument":{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-v","files":[{"filesize":\#(size),"fileid":0,"certfile":"\#(certfile)","\#(key)":"\#(b64)"}]}}}}"#.utf8)
    }

    static func run(_ profile: PALProfile, key: String, signature: [UInt8], certificate: [UInt8]?, image: [UInt8]) -> DeviceVerdict {
        let inputs = DeviceInputs(profile: profile, jobDocument: job(key: key, signature: signature, certfile: "signer.crt", size: image.count),
                                  image: Data(image), signatureKey: key) { name in
            guard name == "signer.crt", let certificate else { return .notFound }
            return .found(certificate)
        }
        return DeviceTwin.run(inputs)
    }

    @Test("The PAL qualification message is the published 84 bytes")
    func palMessage() throws {
        #expect(try Self.bytes(hex: PALVectorFile.load().message.hex).count == 84)
    }

    @Test("A PAL qualification vector: the valid signature passes, the invalid one gives 0xe3, a missing certificate 0xe7",
          arguments: try PALVectorFile.cases())
    func palVector(vector: PALVectorFile.Vector, profile: PALProfile) throws {
        let message = try Self.bytes(hex: PALVectorFile.load().message.hex)
        let key = vector.jobDocKey
        let certificate = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(vector.signerCertPemFile)))
        let valid = try Self.bytes(hex: vector.validSignature.hex)
        let invalid = try Self.bytes(hex: vector.invalidSignature.hex)
        // The POSIX PAL hashes SHA-256 whatever the key says, so the SHA-1 vector does not apply to it.
        let applies = !(profile == .posixOpenSSL && key.contains("sha1"))

        let good = Self.run(profile, key: key, signature: valid, certificate: certificate, image: message)
        #expect(good.accepted == applies)
        #expect(good.palStatus.rawValue == (applies ? 0 : 0xe300_0000))
        let bad = Self.run(profile, key: key, signature: invalid, certificate: certificate, image: message)
        #expect(bad.outcome == .rejectedSignature)
        #expect(bad.palStatus.rawValue == 0xe300_0000)
        let missing = Self.run(profile, key: key, signature: valid, certificate: nil, image: message)
        #expect(missing.palStatus.rawValue == 0xe700_0000)
    }

    @Test("The laser payload: RSA-SHA256 passes with SHA-256 and fails as SHA-1")
    func laser() throws {
        let doc = try Self.json(Self.fixtures.appendingPathComponent("afr_agent_laser_rsa_sha256.json"))
        let payload = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("payload.bin")))
        let text = try #require(doc["signature_base64"] as? String ?? ((doc["signature"] as? [String: Any])?["base64"] as? String))
        let signature = Array(try #require(Data(base64Encoded: text)))
        let certificate = try Self.pem("rsasigner.crt.pem")
        #expect(Self.run(.esp32MbedTLS, key: "sig-sha256-rsa", signature: signature, certificate: certificate, image: payload).accepted)
        #expect(Self.run(.posixOpenSSL, key: "sig-sha256-rsa", signature: signature, certificate: certificate, image: payload).accepted)
        #expect(!Self.run(.esp32MbedTLS, key: "sig-sha1-rsa", signature: signature, certificate: certificate, image: payload).accepted)
    }

    @Test("A DER variant of the ECDSA signature: mbedTLS takes non-minimal DER that OpenSSL refuses",
          arguments: try DivergenceFile.load().signatures.cases)
    func signatureDivergence(variant: DivergenceFile.SignatureCase) throws {
        let message = try Self.bytes(hex: DivergenceFile.load().messageHex)
        let certificate = try Self.pem("ecdsa-sha256-signer.crt.pem")
        let signature = try Self.bytes(hex: variant.sigHex)
        #expect(Self.run(.esp32MbedTLS, key: "sig-sha256-ecdsa", signature: signature, certificate: certificate, image: message).accepted
                == variant.mbedtls.hasPrefix("PASS"))
        #expect(Self.run(.posixOpenSSL, key: "sig-sha256-ecdsa", signature: signature, certificate: certificate, image: message).accepted
                == variant.openssl.hasPrefix("PASS"))
    }

    @Test("A certificate variant: mbedTLS refuses an unknown critical extension (0xe3) where OpenSSL parses it",
          arguments: try DivergenceFile.load().certificates.cases)
    func certificateDivergence(variant: DivergenceFile.CertificateCase) throws {
        let file = try DivergenceFile.load()
        let message = try Self.bytes(hex: file.messageHex)
        let signature = try Self.bytes(hex: file.certificates.signatureDerHex)
        let pem = Array(variant.certPem.utf8)
        let mbedtls = variant.mbedtls.hasPrefix("PASS")
        let esp32 = Self.run(.esp32MbedTLS, key: "sig-sha256-ecdsa", signature: signature, certificate: pem, image: message)
        #expect(esp32.accepted == mbedtls)
        if !mbedtls { #expect(esp32.palStatus.rawValue == 0xe300_0000) }
        #expect(Self.run(.posixOpenSSL, key: "sig-sha256-ecdsa", signature: signature, certificate: pem, image: message).accepted
                == variant.openssl.hasPrefix("PASS"))
    }

    @Test("mbedTLS's reading of ECDSA DER: long forms and leading zeros pass, trailing bytes and short buffers fail")
    func mbedTLSDER() {
        let r: [UInt8] = [0x01], s: [UInt8] = [0x02]
        if case .failure = MbedTLSSignature.read([0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]) { Issue.record("long-form SEQUENCE length refused") }
        if case .success(let (rr, ss)) = MbedTLSSignature.read([0x30, 0x08, 0x02, 0x82, 0x00, 0x01, 0x01, 0x02, 0x01, 0x02]) {
            #expect(Array(rr) == r && Array(ss) == s)
        } else { Issue.record("long-form INTEGER length refused") }
        if case .success = MbedTLSSignature.read([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00]) { Issue.record("inner trailing byte accepted") }
        if case .success = MbedTLSSignature.read([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00]) { Issue.record("outer trailing byte accepted") }
        if case .success = MbedTLSSignature.read([0x30, 0x06, 0x02, 0x01]) { Issue.record("short buffer accepted") }
        if case .success = MbedTLSSignature.read([0x30, 0x85, 0, 0, 0, 0, 6]) { Issue.record("five length bytes accepted") }
    }
}

@Suite("Policy layer")
struct PolicyTests {
    static let signature: [UInt8] = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]
    static let signedAt = Date(timeIntervalSince1970: 1_790_000_000)

    func facts(revoked: Bool = false, profileEffective: Date? = nil, expires: Date? = nil) -> SignerFacts {
        var job = SignerFacts.SigningJob(jobId: "job-1", signature: Data(Self.signature).base64EncodedString(), platformId: "AmazonFreeRTOS-Default",
                                         profileName: "esp32", profileVersion: "ABCDE12345", signedAt: Self.signedAt, signatureExpiresAt: expires)
        if revoked { job.revocation = .init(revokedAt: Self.signedAt.addingTimeInterval(60), revokedBy: "arn:aws:iam::123456789012:root", reason: "key leaked") }
        let profiles = profileEffective.map { [SignerFacts.ProfileRevocation(profileName: "esp32", profileVersion: "ABCDE12345", effectiveTime: $0, reason: "rotated")] } ?? []
        return SignerFacts(capturedAt: Self.signedAt, signingJobs: [job], profileRevocations: profiles)
    }

    @Test("a revoked job, a profile version revoked before the signing time, and an expired signature fail policy")
    func failures() {
        let now = Self.signedAt.addingTimeInterval(3600)
        let revoked = Policy.evaluate(signature: Self.signature, certificate: nil, facts: facts(revoked: true), now: now)
        #expect(revoked.failures.map(\.check) == [.signatureRevoked])
        #expect(revoked.failures.first?.detail.contains("key leaked") == true)
        let profile = Policy.evaluate(signature: Self.signature, certificate: nil, facts: facts(profileEffective: Self.signedAt.addingTimeInterval(-1)), now: now)
        #expect(profile.failures.map(\.check) == [.profileRevoked])
        let later = Policy.evaluate(signature: Self.signature, certificate: nil, facts: facts(profileEffective: Self.signedAt.addingTimeInterval(1)), now: now)
        #expect(later.passed)
        let expired = Policy.evaluate(signature: Self.signature, certificate: nil, facts: facts(expires: now.addingTimeInterval(-1)), now: now)
        #expect(expired.failures.map(\.check) == [.signatureExpired])
        let unknown = Policy.evaluate(signature: [1, 2, 3], certificate: nil, facts: facts(revoked: true), now: now)
        #expect(unknown.passed)
        #expect(unknown.findings.first { $0.check == .signatureRevoked }?.result == .unknown)
    }

    @Test("signer facts round-trip and bad files name the problem")
    func factsFile() throws {
        let original = facts(revoked: true, profileEffective: Self.signedAt)
        #expect(try SignerFacts.decode(try original.encoded()) == original)
        let missing = #expect(throws: PolicyError.self) { try SignerFacts.decode(Data("{\"format\":\"otarig-signer-facts/1\"}".utf8)) }
        #expect(missing?.message.contains("signingJobs") == true, "\(String(describing: missing))")
        do {
            _ = try SignerFacts.decode(Data(#"{"format":"v9","signingJobs":[],"profileRevocations":[]}"#.utf8))
            Issue.record("a foreign format was read")
        } catch {
            #expect(error.message.contains("otarig-signer-facts/1"))
        }
    }

    @Test("the service's GetRevocationStatus answer fails the job or the profile version when the records alone do not")
    func serviceRevokedEntities() {
        let jobArn = "arn:aws:signer:us-east-1:111111111111:/signing-jobs/j1"
        let versionArn = "arn:aws:signer:us-east-1:111111111111:/signing-profiles/p/V1"
        func facts(_ entities: [String]) -> SignerFacts {
            SignerFacts(signingJobs: [.init(jobId: "j1", signature: Data(Self.signature).base64EncodedString(), profileName: "p",
                                            profileVersion: "V1", signedAt: Self.signedAt, jobArn: jobArn, profileVersionArn: versionArn,
                                            revokedEntities: entities)])
        }
        func result(_ entities: [String], _ check: PolicyFinding.Check) -> PolicyFinding.Result? {
            Policy.evaluate(signature: Self.signature, certificate: nil, facts: facts(entities), now: Self.signedAt).findings.first { $0.check == check }?.result
        }
        #expect(result([], .signatureRevoked) == .pass)
        #expect(result([], .profileRevoked) == .pass)
        #expect(result([jobArn], .signatureRevoked) == .fail)
        #expect(result([versionArn], .profileRevoked) == .fail)
        #expect(result([versionArn], .signatureRevoked) == .pass)
    }
}


@Suite("UTC timestamps")
struct UTCTimestampTests {
    @Test("agree with ISO8601DateFormatter across eras, leap days and the epoch")
    func agree() {
        let formatter = ISO8601DateFormatter()
        var state: UInt64 = 7
        var seconds: [Double] = [0, -1, 86_399, 86_400, 951_782_400, 4_107_542_399, 1_790_000_000.9, -2_208_988_800]
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1
            seconds.append(Double(Int64(bitPattern: state >> 2) % 8_000_000_000))
        }
        for value in seconds {
            let date = Date(timeIntervalSince1970: value)
            #expect(UTCTimestamp.string(date) == formatter.string(from: date), "\(value)")
        }
    }
}

@Suite("App versions")
struct AppVersionTests {
    @Test("X.Y.Z packs as major << 24 | minor << 16 | build and back; out-of-range parts are refused")
    func words() {
        #expect(AppVersion.word("1.0.1") == 0x0100_0001)
        #expect(AppVersion.word("255.255.65535") == 0xFFFF_FFFF)
        #expect(AppVersion.text(0x0102_0003) == "1.2.3")
        for bad in ["256.0.0", "1.256.0", "1.0.65536", "1.0", "1.0.0.0", "a.b.c", "1..0", ""] {
            #expect(AppVersion.word(bad) == nil, "\(bad)")
        }
    }
}

@Suite("Job execution messages")
struct JobExecutionTests {
    @Test("a bare afr_ota document wraps byte for byte; signature keys are found alone or inside an execution")
    func wrapAndKeys() throws {
        let bare = Array(#"{"afr_ota":{"files":[{"filesize":1,"sig-sha1-rsa":"AA=="},{"sig-sha256-ecdsa":"AA=="}]}}"#.utf8)
        let wrapped = JobExecution.wrap(bare, jobId: "AFR_OTA-x", clientToken: "0:t")
        #expect(wrapped.firstRange(of: bare) != nil)
        #expect(JobExecution.shape(of: wrapped) == .executionMessage && JobExecution.shape(of: bare) == .bareJobDocument)
        #expect(JobExecution.signatureKeys(in: bare) == ["sig-sha1-rsa", "sig-sha256-ecdsa"])
        #expect(JobExecution.signatureKeys(in: wrapped) == ["sig-sha1-rsa", "sig-sha256-ecdsa"])
        #expect(JobExecution.signatureKeys(in: Array("not json".utf8)).isEmpty)
        #expect(JobExecution.certfile(in: Array(#"{"afr_ota":{"files":[{"certfile":"/cert/ota.crt"}]}}"#.utf8)) == "/cert/ota.crt")
        #expect(JobExecution.certfile(in: JobExecution.wrap(Array(#"{"afr_ota":{"files":[{"certfile":"c"}]}}"#.utf8), jobId: "j", clientToken: "t")) == "c")
        #expect(JobExecution.certfile(in: Array(#"{"afr_ota":{"files":[{"certfile":7}]}}"#.utf8)) == nil)
        // The device's parser reads the wrapped message as a job.
        let job = JobDocumentParser(limits: .freeRTOSDefaults, signatureKey: "sig-sha1-rsa").parse(wrapped)
        #expect(job.text(\.jobId) == "AFR_OTA-x" && job.fileSize == 1)
    }

    @Test("A document's shape is read with coreJSON: invalid, not an object, an execution, a bare afr_ota, or other")
    func shapes() {
        #expect(JobExecution.shape(of: Array(#"{"afr_ota": "#.utf8)) == .invalid(.partial))
        #expect(JobExecution.shape(of: Array(#"{"afr_ota":{}} x"#.utf8)) == .invalid(.illegalDocument))
        #expect(JobExecution.shape(of: Array(#" [1,2] "#.utf8)) == .notAnObject)
        #expect(JobExecution.shape(of: Array(#"{"execution":null,"afr_ota":{}}"#.utf8)) == .executionMessage)
        #expect(JobExecution.shape(of: Array(#" {"afr_ota":{}} "#.utf8)) == .bareJobDocument)
        #expect(JobExecution.shape(of: Array(#"{"operation":"reboot"}"#.utf8)) == .otherObject)
        // An escaped key is not the key, as coreJSON compares keys byte for byte.
        #expect(JobExecution.shape(of: Array(#"{"afr\u005fota":{}}"#.utf8)) == .otherObject)
    }
}

@Suite("coreJSON iteration")
struct CoreJSONMembersTests {
    @Test("The members of an object come with their keys and the elements of an array without, as ranges of the buffer")
    func members() throws {
        let document = Array(#"{"a": [1, "x", {"k": true}], "b" : null }"#.utf8)
        let top = try #require(CoreJSON.members(document, of: document.indices))
        #expect(top.map { String(decoding: document[$0.key ?? 0..<0], as: UTF8.self) } == ["a", "b"])
        #expect(top.map(\.type) == [.array, .null])
        let array = try #require(CoreJSON.members(document, of: top[0].value))
        #expect(array.map { $0.key == nil } == [true, true, true])
        #expect(array.map { String(decoding: document[$0.value], as: UTF8.self) } == ["1", "x", #"{"k": true}"#])
        #expect(CoreJSON.members(document, of: array[0].value) == nil)
        #expect(CoreJSON.members(Array("[]".utf8), of: 0..<2) == [])
        #expect(CoreJSON.members(Array("[1,".utf8), of: 0..<3) == nil)
    }
}
