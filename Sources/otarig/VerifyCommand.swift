import ArgumentParser
import CoreFoundation
import Foundation
import HILRunner
import OTAVerifier

/// `otarig verify`: the host twin's verdict on an image and its job document, per PAL profile, with the host-only
/// policy layer beside it.
struct VerifyCommand: AsyncParsableCommand {
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
            SHA-256, BadSignerCert when the certificate does not read), cc3220-simplelink (TI's network \
            processor: RSA PKCS#1 v1.5 over the file's SHA-1, the DER certificate under certfile chained to a root \
            in --root-catalog through issuer files named by their 'Issued To' commonName in --cert-dir, SimpleLink \
            error codes as the SignatureCheckFailed sub-code, files up to 512 KiB, and the tamper lock after \
            --alert-threshold security alerts, see --security-alerts).

            The image comes with its job document (--image, --job-doc), or as the signed object a signing job \
            wrote (--signed-object, and --payload for JSONDetached); without --job-doc otarig makes the document \
            CreateOTAUpdate would (certfile from --certfile or the one file in --cert-dir).

            Takes the same flags as 'otarig device-verify', so the two can run side by side.

            Examples:
              otarig verify --profile esp32-mbedtls --image fw.bin --job-doc job.json --cert-dir certs/
              otarig verify --profile posix-openssl --image fw.bin --job-doc job.json --cert-dir certs/ \\
                  --revocations facts.json --json
              otarig verify --profile cc3220-simplelink --signed-object signed.json --cert-dir fs/ \\
                  --root-catalog catalog/
                  (fs/ holds tisigner.crt.der and, for a chain, 'my intermediate' = the intermediate's DER
                  named by its commonName; catalog/ holds the root, e.g. dummy-root-ca-cert)
              otarig verify --profile cc3220-simplelink --image fw.bin --job-doc job.json --cert-dir fs/ \\
                  --root-catalog catalog/ --security-alerts 14 --json
            Exit status: 0 the device accepts and policy passes (or --device-only), 1 reject, 2 bad input.
            """
    )

    @OptionGroup var twin: TwinOptions

    @OptionGroup var inputs: DeviceInputOptions

    @Flag(name: .customLong("device-only"), help: "Decide on the device layer alone (policy is still reported).")
    var deviceOnly = false

    @Flag(help: "Print one JSON object instead of the console.")
    var json = false

    func run() async throws {
        let run = try await TwinSession.run(twin, inputs)
        let device = run.device, policy = run.policy, loaded = run.loaded
        let accepted = device.accepted && (deviceOnly || policy.passed)
        let summary = DeviceConsole.summary(device, context: inputs.context(loaded))

        if json {
            try JSONOutput.print(Report(
                verdict: accepted ? "accepted" : "rejected", profile: run.profile.rawValue, signatureKey: loaded.key.name,
                deviceOnly: deviceOnly, device: DeviceReport(device, summary: summary),
                policy: PolicyReport(policy)))
        } else {
            Console.out("twin: \(run.profile.rawValue), " + inputs.describe(loaded))
            DeviceConsole.lines(device).forEach(Console.out)
            Console.out("device: " + summary.summary)
            if let hint = summary.hint, !device.accepted { Console.out("hint: \(hint)") }
            PolicyReport(policy).lines.forEach(Console.out)
            let policyWord = policy.passed ? "passes" : "fails (\(policy.failures.map(\.check.rawValue).joined(separator: ", ")))"
            Console.out("verdict: \(accepted ? "ACCEPT" : "REJECT") (device \(device.accepted ? "accepts" : "rejects"), policy \(policyWord)\(deviceOnly ? ", --device-only" : ""))")
        }
        if !accepted { throw ExitCode(1) }
    }

    private struct Report: Encodable {
        var verdict: String
        var profile: String
        var signatureKey: String
        var deviceOnly: Bool
        var device: DeviceReport
        var policy: PolicyReport
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

/// A directory as the CC3220SF's SimpleLink file system: a name relative to the directory is a regular file's
/// bytes, whatever their size; anything else (no file, a directory, a name with "..") is no file. The close has
/// already dropped a leading "/".
enum SimpleLinkDirectory {
    static func read(_ name: String, in directory: String) -> [UInt8]? {
        guard !name.isEmpty, !name.contains("..") else { return nil }
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, let data = FileManager.default.contents(atPath: path) else { return nil }
        return Array(data)
    }
}
