import ArgumentParser
import BoardSim
import Foundation
import HILRunner
import OTAVerifier

/// `otarig device-verify`: runs the C device verifier (what a FreeRTOS device with an mbedTLS PAL does when the
/// last block of an OTA file arrives) on files, and prints its console and verdict.
struct DeviceVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device-verify",
        abstract: "Run the device-side OTA verifier (C, mbedTLS) on an image and its job document.",
        discussion: """
            The verdict comes from the same C code the simulated boards run (Firmware/): the FreeRTOS v3 OTA \
            agent's job-document parse, the block-by-block receive of [0, filesize), and the close of an mbedTLS \
            PAL (mbedtls_x509_crt_parse + mbedtls_pk_verify; the certificate's key type decides ECDSA or RSA; no \
            date, chain or key-usage check, as on devices). It prints the device's log lines and the job-status \
            messages it would publish, character for character, then the verdict.

            The job document may be what AWS IoT stores for an OTA update (the {"afr_ota": ...} that \
            'otarig sign --job-doc' writes), which is run as the job execution a device receives, or that whole \
            execution message ({"execution": {"jobId": ..., "jobDocument": ...}}), needed for self-test jobs.

            The job's certfile is looked up in --cert-dir (as a label or relative path). Without a match the \
            device falls back to --fallback-cert (the certificate compiled into ESP32 images); with none it \
            reports OtaPalBadSignerCert.

            Examples:
              otarig device-verify --image fw.bin --job-doc job.json --cert-dir certs/
              otarig device-verify --image fw.bin --job-doc execution.json --cert-dir certs/ \\
                  --running-version 1.0.1 --platform-state pending-commit --json
            Exit status: 0 the device accepts, 1 the device rejects, 2 bad input.
            """
    )

    @OptionGroup var inputs: DeviceInputOptions

    @Flag(help: "Print one JSON object (log, statuses, verdict) instead of the console.")
    var json = false

    func run() throws {
        let loaded = try inputs.load()
        let run = try loaded.withImageFile { path in
            let deviceInputs = DeviceRun.Inputs(
                imagePath: path, jobDocument: loaded.document.bytes, certificateDirectory: inputs.certificateDirectory,
                fallbackCertificatePath: inputs.fallbackCertificate, signatureKey: loaded.key.name, runningVersion: loaded.version,
                platformPendingCommit: inputs.platformState == .pendingCommit)
            do {
                return try DeviceRun.run(deviceInputs)
            } catch let error as DeviceRun.PortError {
                throw OtarigError("cannot run the device: \(error.message)")
            }
        }
        if run.inputError {
            throw OtarigError("cannot read the image '\(loaded.imageName)' while receiving it; check the file")
        }

        let verdict = run.verdict
        let mbedtls = run.mbedtlsErrorText.map { "mbedTLS: \($0) (-0x\(String(-run.mbedtlsError, radix: 16)))" }
        let summary = DeviceConsole.summary(verdict, context: inputs.context(loaded), libraryDetail: mbedtls)
        if json {
            try JSONOutput.print(Report(device: DeviceReport(verdict, summary: summary), signatureKey: loaded.key.name,
                                        mbedtlsError: run.mbedtlsError, runningVersion: AppVersion.text(loaded.version),
                                        wrappedJobDocument: loaded.document.wrapped))
        } else {
            Console.out("device: mbedTLS PAL, " + inputs.describe(loaded))
            DeviceConsole.lines(verdict).forEach(Console.out)
            Console.out(summary.summary)
            if let hint = summary.hint, !verdict.accepted {
                Console.out("hint: \(hint)")
            }
        }
        if !verdict.accepted {
            throw ExitCode(1)
        }
    }

    /// The device report's fields at the top level, with the verdict and what only the C run knows.
    private struct Report: Encodable {
        var device: DeviceReport
        var signatureKey: String
        var mbedtlsError: Int32
        var runningVersion: String
        var wrappedJobDocument: Bool

        enum Keys: String, CodingKey { case verdict, signatureKey, mbedtlsError, runningVersion, wrappedJobDocument }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(device.accepted ? "accepted" : "rejected", forKey: .verdict)
            try device.encode(to: encoder)
            try container.encode(signatureKey, forKey: .signatureKey)
            try container.encode(mbedtlsError, forKey: .mbedtlsError)
            try container.encode(runningVersion, forKey: .runningVersion)
            try container.encode(wrappedJobDocument, forKey: .wrappedJobDocument)
        }
    }
}
