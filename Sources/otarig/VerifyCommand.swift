import ArgumentParser
import Foundation
import OTAVerifier

/// `otarig verify`: the host twin's verdict on an image and its job document, per PAL profile, with the host-only
/// policy layer beside it.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Predict a FreeRTOS device's verdict on an OTA image (host twin), and check host-only policy.",
        discussion: """
            Two labelled layers. The device layer is what the PAL profile's device decides, quirks included: the v3 \
            agent's job-document parse, exactly [0, filesize) hashed, the PAL's certificate lookup and signature \
            check, the FreeRTOS status code, the log lines and job-status messages. The policy layer is what no \
            device checks: a revoked signature or profile version, an expired signature, certificate dates, the \
            codeSigning EKU; revocation and expiry facts come from --revocations (format otarig-signer-facts/1, \
            see 'otarig verify --help' and the README).

            Profiles: esp32-mbedtls (mbedTLS: lenient DER, refuses unknown critical extensions, certificate by \
            label then the compiled-in one), posix-openssl (OpenSSL: strict DER, PEM certificates only, always \
            SHA-256, BadSignerCert when the certificate does not read).

            Takes the same flags as 'otarig device-verify', so the two can run side by side.

            Examples:
              otarig verify --profile esp32-mbedtls --image fw.bin --job-doc job.json --cert-dir certs/
              otarig verify --profile posix-openssl --image fw.bin --job-doc job.json --cert-dir certs/ \\
                  --revocations facts.json --json
            Exit status: 0 the device accepts and policy passes (or --device-only), 1 reject, 2 bad input.
            """
    )

    @Option(help: ArgumentHelp("The PAL profile: esp32-mbedtls or posix-openssl.", valueName: "profile"))
    var profile: String = PALProfile.esp32MbedTLS.rawValue

    @OptionGroup var inputs: DeviceInputOptions

    @Option(help: ArgumentHelp("Signer facts (revocations, expiry) captured from a signing service: otarig-signer-facts/1 JSON.", valueName: "file"))
    var revocations: String?

    @Flag(name: .customLong("device-only"), help: "Decide on the device layer alone (policy is still reported).")
    var deviceOnly = false

    @Flag(help: "Print one JSON object instead of the console.")
    var json = false

    func run() throws {
        guard let palProfile = PALProfile(rawValue: profile) else {
            throw OtarigError("--profile '\(profile)' is not a profile: use esp32-mbedtls or posix-openssl")
        }
        guard palProfile != .cc3220SimpleLink else {
            throw OtarigError("the cc3220-simplelink profile is not available yet; use esp32-mbedtls or posix-openssl")
        }
        let loaded = try inputs.load(defaultSignatureKey: palProfile.signatureKey)
        let image = try Files.read(inputs.image, what: "image")
        let fallback = try inputs.fallbackCertificate.map { try Array(Files.read($0, what: "fallback certificate")) }
        let facts = try revocations.map { path -> SignerFacts in
            do {
                return try SignerFacts.decode(try Files.read(path, what: "signer facts"))
            } catch let error as PolicyError {
                throw OtarigError("the signer facts '\(path)' do not read: \(error.message)")
            }
        }

        let directory = inputs.certificateDirectory
        let deviceInputs = DeviceInputs(
            profile: palProfile, jobDocument: loaded.document.bytes, image: Array(image), signatureKey: loaded.key.name,
            runningVersion: loaded.version, platformPendingCommit: inputs.platformState == .pendingCommit,
            fallbackCertificate: fallback) { name in CertificateDirectory.lookup(name, in: directory) }
        let device = DeviceTwin.run(deviceInputs)

        var certificateUsed: [UInt8]?
        if case .found(let bytes) = device.certificateLookup { certificateUsed = bytes } else if device.usedFallbackCertificate { certificateUsed = fallback }
        let policy = Policy.evaluate(signature: device.job?.signature ?? [], certificate: certificateUsed, facts: facts, now: Date())
        let accepted = device.accepted && (deviceOnly || policy.passed)

        if json {
            try printJSON(device: device, policy: policy, accepted: accepted, profile: palProfile, loaded: loaded)
        } else {
            printConsole(device: device, policy: policy, accepted: accepted, profile: palProfile, loaded: loaded)
        }
        if !accepted { throw ExitCode(1) }
    }

    // MARK: output

    static func deviceSummary(_ device: DeviceVerdict, directory: String) -> (String, String?) {
        switch device.outcome {
        case .accepted:
            let certificate = device.usedFallbackCertificate ? "the compiled-in fallback certificate" : "certificate '\(device.job.map { $0.text(\.certFile) } ?? "")'"
            return ("ACCEPTED: the signature over \(device.bytesReceived) bytes (\(device.hash.rawValue) \(hex(device.digest))) verifies with \(certificate) (\(device.signerKey ?? "?"))", nil)
        case .selfTestStarted:
            return ("ACCEPTED: self test started: the running version is newer than the updater's (image state Testing)", nil)
        case .noActiveJob:
            return ("REJECTED: no OTA job in the document (\(device.job?.jobError.freeRTOSName ?? ""))", nil)
        case .rejectedJobDocument:
            let job = device.job
            return ("REJECTED: the agent refused the job document: \(job?.jobError.freeRTOSName ?? ""), DocParseErr_t=\(job?.docError.rawValue ?? 0) (\(job?.docError.freeRTOSName ?? ""))",
                    "the log lines above name the field the agent stopped at")
        case .rejectedProtocol:
            return ("REJECTED: protocols names neither \"MQTT\" nor \"HTTP\" (OtaErrInvalidDataProtocol); the update is aborted", nil)
        case .rejectedBlock:
            return ("REJECTED: block \(device.blockIndex) arrived with \(device.blockSize) bytes, which filesize does not allow (Block range check failed)",
                    "the job's filesize (\(device.job?.fileSize ?? 0)) must be the image's exact size")
        case .rejectedSignature:
            let hint: String
            if device.palStatus.main == UInt32(PALMain.badSignerCert.rawValue), device.signatureFailure == nil {
                hint = "no certificate '\(device.job.map { $0.text(\.certFile) } ?? "")' in '\(directory)': copy it there under that name, or pass --fallback-cert"
            } else {
                hint = device.signatureFailure?.explanation ?? "the image, the signature and the certificate do not belong together"
            }
            return ("REJECTED: \(device.palStatus.mainName) (status \(device.palStatus.hex))", hint)
        case .rejectedVersion:
            return ("REJECTED: \(device.otaError.freeRTOSName) in self test: the updater's version must be lower than the running one", nil)
        case .rejectedImageState:
            return ("REJECTED: the job's self-test state and the platform's image state disagree; the device resets",
                    "a self-test job needs --platform-state pending-commit, and a download job needs valid")
        }
    }

    private func printConsole(device: DeviceVerdict, policy: PolicyVerdict, accepted: Bool, profile: PALProfile, loaded: DeviceInputOptions.Loaded) {
        Console.out("twin: \(profile.rawValue), " + inputs.describe(loaded))
        for event in device.events {
            switch event {
            case .log(let line): Console.out("[\(line.level.rawValue)] \(line.text)")
            case .status(let status): Console.out("publish $aws/things/<thing>/jobs/\(status.jobId)/update \(status.payload)")
            }
        }
        let (summary, hint) = Self.deviceSummary(device, directory: inputs.certificateDirectory)
        Console.out("device: " + summary)
        if let hint, !device.accepted { Console.out("  hint: \(hint)") }
        for finding in policy.findings {
            Console.out("policy: \(finding.result.rawValue.uppercased()) \(finding.check.rawValue): \(finding.detail)")
        }
        let policyWord = policy.passed ? "passes" : "fails (\(policy.failures.map(\.check.rawValue).joined(separator: ", ")))"
        Console.out("verdict: \(accepted ? "ACCEPT" : "REJECT") (device \(device.accepted ? "accepts" : "rejects"), policy \(policyWord)\(deviceOnly ? ", --device-only" : ""))")
    }

    private struct Report: Encodable {
        struct Device: Encodable {
            var outcome: String
            var accepted: Bool
            var summary: String
            var hint: String?
            var palStatus: String
            var palMain: String
            var jobParseError: String
            var docParseError: Int
            var otaError: String
            var imageState: String
            var reset: Bool
            var hash: String
            var digest: String?
            var bytesReceived: Int
            var certificate: Certificate
            var signerKey: String?
            var failure: String?
            var log: [Line]
            var statuses: [Published]
        }
        struct Certificate: Encodable { var certfile: String; var lookup: String?; var fallback: Bool }
        struct Line: Encodable { var level: String; var text: String }
        struct Published: Encodable { var jobId: String; var payload: String }
        struct Finding: Encodable { var check: String; var result: String; var detail: String }
        struct PolicyPart: Encodable { var passed: Bool; var findings: [Finding] }
        var verdict: String
        var profile: String
        var signatureKey: String
        var deviceOnly: Bool
        var device: Device
        var policy: PolicyPart
    }

    private func printJSON(device: DeviceVerdict, policy: PolicyVerdict, accepted: Bool, profile: PALProfile, loaded: DeviceInputOptions.Loaded) throws {
        let (summary, hint) = Self.deviceSummary(device, directory: inputs.certificateDirectory)
        let job = device.job
        let report = Report(
            verdict: accepted ? "accepted" : "rejected", profile: profile.rawValue, signatureKey: loaded.key.name, deviceOnly: deviceOnly,
            device: .init(
                outcome: device.outcome.rawValue, accepted: device.accepted, summary: summary, hint: device.accepted ? nil : hint,
                palStatus: device.palStatus.hex, palMain: device.palStatus.mainName,
                jobParseError: job?.jobError.freeRTOSName ?? "", docParseError: job?.docError.rawValue ?? 0,
                otaError: device.otaError.freeRTOSName, imageState: device.imageState.name, reset: device.reset,
                hash: device.hash.rawValue, digest: device.digest.isEmpty ? nil : hex(device.digest), bytesReceived: device.bytesReceived,
                certificate: .init(certfile: job.map { $0.text(\.certFile) } ?? "", lookup: device.certificateLookup?.name, fallback: device.usedFallbackCertificate),
                signerKey: device.signerKey, failure: device.signatureFailure?.explanation,
                log: device.log.map { .init(level: $0.level.rawValue, text: $0.text) },
                statuses: device.statuses.map { .init(jobId: $0.jobId, payload: $0.payload) }),
            policy: .init(passed: policy.passed, findings: policy.findings.map { .init(check: $0.check.rawValue, result: $0.result.rawValue, detail: $0.detail) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Certificates in a directory, looked up as the POSIX port of the C verifier does: the certfile is a name or a
/// relative path inside the directory; empty names and names that climb out with ".." find nothing; PEM or DER.
enum CertificateDirectory {
    static func lookup(_ name: String, in directory: String) -> CertificateLookup {
        guard !name.isEmpty, !name.split(separator: "/", omittingEmptySubsequences: false).contains("..") else { return .notFound }
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT || errno == ENOTDIR ? .notFound : .unreadable }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0, info.st_size <= 8191,
              let data = FileManager.default.contents(atPath: path)
        else { return .unreadable }
        return .found(Array(data))
    }
}
