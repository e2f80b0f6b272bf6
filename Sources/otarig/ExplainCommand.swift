import ArgumentParser
import Foundation
import HILRunner
import OTAVerifier

/// `otarig explain`: the twin's run, step by step in the device's order, with the evidence for each step.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Walk the device's checks on an OTA image step by step and say where and why it fails.",
        discussion: """
            Takes the same inputs as 'otarig verify' and runs the same twin, then shows each check in the order \
            the device makes it: the job document (and which base64 rule a bad signature value broke), self test, \
            protocols, file create, the block-by-block receive (filesize against the image), the hash it \
            computed, the certificate it picked and why (on cc3220-simplelink: the security-alert count and lock, then \
            each chain step: the issuer file name looked up, found or not, and which catalog root), what the signature's bytes are (DER or raw r‖s, \
            lengths, leading zeros, high-S; RSA length against the modulus), and the signature check. The first \
            failing step is where the device stopped; later steps are not reached.

            Then it probes what the device does not try, to point at the cause: the other certificates in \
            --cert-dir, the other hash, the whole image instead of [0, filesize), raw r‖s instead of DER. The \
            policy layer (revocation, expiry, certificate dates, EKU) follows, as in 'otarig verify'.

            Examples:
              otarig explain --image fw.bin --job-doc job.json --cert-dir certs/
              otarig explain --profile cc3220-simplelink --signed-object signed.json --cert-dir fs/ --root-catalog catalog/
            Exit status: 0 the device accepts and policy passes, 1 reject, 2 bad input.
            """
    )

    @OptionGroup var twin: TwinOptions

    @OptionGroup var inputs: DeviceInputOptions

    @Flag(help: "Print one JSON object instead of the walk.")
    var json = false

    func run() async throws {
        let run = try await TwinSession.run(twin, inputs)
        let device = run.device
        let signatureText = Explainer.signatureText(in: run.deviceInputs.jobDocument, key: run.deviceInputs.signatureKey)
        let explanation = Explainer.explain(run.deviceInputs, device, signatureText: signatureText, candidates: candidates(fallback: run.fallback))
        let accepted = device.accepted && run.policy.passed
        let summary = DeviceConsole.summary(device, context: inputs.context(run.loaded))

        if json {
            try JSONOutput.print(Report(
                verdict: accepted ? "accepted" : "rejected", profile: run.profile.rawValue,
                steps: explanation.steps.map { .init(step: $0.name, result: $0.result.rawValue, evidence: $0.lines) },
                failedStep: explanation.failedStep?.name, probes: explanation.probes,
                device: DeviceReport(device, summary: summary),
                policy: PolicyReport(run.policy).findings))
        } else {
            Console.out("explain: \(run.profile.rawValue), image '\(run.loaded.imageName)' (\(run.loaded.imageSize) bytes), " + inputs.describe(run.loaded))
            let width = explanation.steps.map(\.name.count).max() ?? 0
            for (index, step) in explanation.steps.enumerated() {
                let label = step.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let mark = step.result.rawValue.uppercased()
                let indent = String(repeating: " ", count: width + 18)
                let first = step.lines.first ?? ""
                Console.out(String(format: "%2d. ", index + 1) + label + "  " + mark.padding(toLength: 12, withPad: " ", startingAt: 0) + first)
                for line in step.lines.dropFirst() { Console.out(indent + line) }
            }
            if !explanation.probes.isEmpty {
                Console.out("probes (checks the device does not make):")
                for probe in explanation.probes { Console.out("  - " + probe) }
            }
            Console.out("device: " + summary.summary)
            PolicyReport(run.policy).lines.forEach(Console.out)
            if let failed = explanation.failedStep {
                Console.out("verdict: REJECT at step '\(failed.name)'" + (device.accepted ? "" : " (\(device.palStatus.mainName) \(device.palStatus.hex))"))
            } else {
                Console.out("verdict: \(accepted ? "ACCEPT" : "REJECT") (device \(device.accepted ? "accepts" : "rejects"), policy \(run.policy.passed ? "passes" : "fails"))")
            }
        }
        if !accepted { throw ExitCode(1) }
    }

    /// Every readable file in the certificate directory, and the fallback, for the probes.
    private func candidates(fallback: [UInt8]?) -> [CandidateCertificate] {
        var found: [CandidateCertificate] = []
        let directory = inputs.certificateDirectory
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
            if case .found(let bytes) = CertificateDirectory.lookup(name, in: directory) {
                found.append(CandidateCertificate(name: name, bytes: bytes))
            }
        }
        if let fallback, let path = inputs.fallbackCertificate {
            found.append(CandidateCertificate(name: path, bytes: fallback))
        }
        return found
    }

    private struct Report: Encodable {
        struct Step: Encodable { var step: String; var result: String; var evidence: [String] }
        var verdict: String
        var profile: String
        var steps: [Step]
        var failedStep: String?
        var probes: [String]
        var device: DeviceReport
        var policy: [PolicyReport.Finding]
    }
}
