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
        guard profile != "cc3220-simplelink" else {
            throw OtarigError("the cc3220-simplelink profile is not available yet; use esp32-mbedtls or posix-openssl")
        }
        guard let palProfile = PALProfile(rawValue: profile) else {
            throw OtarigError("--profile '\(profile)' is not a profile: use esp32-mbedtls or posix-openssl")
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
        let summary = DeviceConsole.summary(device, inputs: inputs, loaded: loaded)

        if json {
            try JSONOutput.print(Report(
                verdict: accepted ? "accepted" : "rejected", profile: palProfile.rawValue, signatureKey: loaded.key.name,
                deviceOnly: deviceOnly, device: DeviceReport(device, summary: summary),
                policy: .init(passed: policy.passed, findings: policy.findings.map { .init(check: $0.check.rawValue, result: $0.result.rawValue, detail: $0.detail) })))
        } else {
            Console.out("twin: \(palProfile.rawValue), " + inputs.describe(loaded))
            DeviceConsole.printEvents(device)
            Console.out("device: " + summary.summary)
            if let hint = summary.hint, !device.accepted { Console.out("hint: \(hint)") }
            for finding in policy.findings {
                Console.out("policy: \(finding.result.rawValue.uppercased()) \(finding.check.rawValue): \(finding.detail)")
            }
            let policyWord = policy.passed ? "passes" : "fails (\(policy.failures.map(\.check.rawValue).joined(separator: ", ")))"
            Console.out("verdict: \(accepted ? "ACCEPT" : "REJECT") (device \(device.accepted ? "accepts" : "rejects"), policy \(policyWord)\(deviceOnly ? ", --device-only" : ""))")
        }
        if !accepted { throw ExitCode(1) }
    }

    private struct Report: Encodable {
        struct Finding: Encodable { var check: String; var result: String; var detail: String }
        struct PolicyPart: Encodable { var passed: Bool; var findings: [Finding] }
        var verdict: String
        var profile: String
        var signatureKey: String
        var deviceOnly: Bool
        var device: DeviceReport
        var policy: PolicyPart
    }
}

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
