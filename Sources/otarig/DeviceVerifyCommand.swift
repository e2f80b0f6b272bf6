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

            With --profile cc3220-simplelink the device is a TI CC3220SF: its PAL refuses files over 512 KiB when it \
            creates them, and its close is the network processor's sl_FsClose (the C model of \
            Firmware/source/hil_simplelink.c): --cert-dir is the network processor's file system (the job's certfile \
            and every issuer certificate under its "Issued To" name, DER), --root-catalog the trusted roots (PEM or DER \
            files, and revoked.txt with SHA-1 or SHA-256 fingerprints), --security-alerts the alerts the device has \
            counted so far and --alert-threshold the count that locks it. The SimpleLink code is printed with the verdict.

            Examples:
              otarig device-verify --image fw.bin --job-doc job.json --cert-dir certs/
              otarig device-verify --profile cc3220-simplelink --image fw.bin --job-doc job.json --cert-dir fs/ \\
                  --root-catalog catalog/
              otarig device-verify --image fw.bin --job-doc execution.json --cert-dir certs/ \\
                  --running-version 1.0.1 --platform-state pending-commit --json
            Exit status: 0 the device accepts, 1 the device rejects, 2 bad input.
            """
    )

    @OptionGroup var inputs: DeviceInputOptions

    @Option(help: ArgumentHelp("The device's PAL: esp32-mbedtls (the mbedTLS PAL) or cc3220-simplelink (the TI CC3220SF network processor).", valueName: "profile"))
    var profile: String = PALProfile.esp32MbedTLS.rawValue

    @Option(name: .customLong("root-catalog"), help: ArgumentHelp("cc3220-simplelink: the trusted root certificates (PEM or DER files) and revoked.txt (SHA-1 or SHA-256 fingerprints).", valueName: "dir"))
    var rootCatalog: String?

    @Option(name: .customLong("security-alerts"), help: ArgumentHelp("cc3220-simplelink: the security alerts the device has counted before this close.", valueName: "n"))
    var securityAlerts: UInt32 = 0

    @Option(name: .customLong("alert-threshold"), help: ArgumentHelp("cc3220-simplelink: the security-alert count that locks the device (SecurityAlertThreshold).", valueName: "n"))
    var alertThreshold: UInt32 = SimpleLinkNWP.defaultAlertThreshold

    @Flag(help: "Print one JSON object (log, statuses, verdict) instead of the console.")
    var json = false

    /// The CC3220SF port's inputs, checked; nil for the mbedTLS PAL.
    func cc3220Inputs() throws -> DeviceRun.Inputs.CC3220? {
        guard let palProfile = PALProfile(rawValue: profile), palProfile != .posixOpenSSL else {
            throw OtarigError("--profile '\(profile)' is not a device profile: use esp32-mbedtls or cc3220-simplelink (the posix-openssl PAL has only a twin: otarig verify)")
        }
        guard palProfile == .cc3220SimpleLink else {
            if rootCatalog != nil || securityAlerts != 0 || alertThreshold != SimpleLinkNWP.defaultAlertThreshold {
                throw OtarigError("--root-catalog, --security-alerts and --alert-threshold are for --profile cc3220-simplelink; the \(profile) PAL checks no certificate chain, drop them")
            }
            return nil
        }
        if inputs.fallbackCertificate != nil {
            throw OtarigError("the CC3220SF PAL has no compiled-in certificate (sl_FsClose takes only the file certfile names); drop --fallback-cert")
        }
        guard let rootCatalog else {
            throw OtarigError("--profile cc3220-simplelink needs --root-catalog DIR: the trusted roots the network processor checks the signer's chain against (on development boards TI's playground root, dummy-root-ca-cert)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootCatalog, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError("--root-catalog '\(rootCatalog)' is not a directory; pass the directory holding the trusted root certificates")
        }
        guard alertThreshold > 0 else {
            throw OtarigError("--alert-threshold 0 would lock the device before any close; pass 1 or more (the default is 15)")
        }
        return DeviceRun.Inputs.CC3220(rootCatalogDirectory: rootCatalog,
                                       state: SimpleLinkNWP.State(securityAlerts: securityAlerts, alertThreshold: alertThreshold))
    }

    func run() throws {
        let cc3220 = try cc3220Inputs()
        let loaded = try inputs.load(defaultSignatureKey: cc3220 == nil ? "sig-sha256-ecdsa" : PALProfile.cc3220SimpleLink.signatureKey)
        let run = try loaded.withImageFile { path in
            let deviceInputs = DeviceRun.Inputs(
                imagePath: path, jobDocument: loaded.document.bytes, certificateDirectory: inputs.certificateDirectory,
                fallbackCertificatePath: inputs.fallbackCertificate, signatureKey: loaded.key.name, runningVersion: loaded.version,
                platformPendingCommit: inputs.platformState == .pendingCommit, cc3220: cc3220)
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
        var summary = DeviceConsole.summary(verdict, context: inputs.context(loaded), libraryDetail: mbedtls)
        if let evidence = run.simpleLink, !verdict.accepted {
            // The network processor's own words, whatever the PAL made of its code.
            let alert = evidence.securityAlert ? "; a security alert (the device has counted \(evidence.securityAlerts) of \(alertThreshold))" : ""
            summary = ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): SimpleLink \(evidence.name) (\(evidence.code))",
                       evidence.detail + alert)
        }
        if json {
            try JSONOutput.print(Report(device: DeviceReport(verdict, summary: summary), signatureKey: loaded.key.name,
                                        mbedtlsError: run.mbedtlsError, runningVersion: AppVersion.text(loaded.version),
                                        wrappedJobDocument: loaded.document.wrapped,
                                        simpleLink: cc3220 == nil ? nil : SimpleLinkReport(run)))
        } else {
            Console.out((cc3220 == nil ? "device: mbedTLS PAL, " : "device: CC3220SF PAL (SimpleLink network processor), ") + inputs.describe(loaded))
            DeviceConsole.lines(verdict).forEach(Console.out)
            if let evidence = run.simpleLink {
                Console.out("simplelink: sl_FsClose returned \(evidence.name) (\(evidence.code)): \(evidence.detail)")
                if !evidence.chain.isEmpty {
                    Console.out("simplelink: chain " + evidence.chain.map { entry in entry.file.map { "\(entry.subject) ('\($0)')" } ?? "\(entry.subject) (catalog root \(evidence.rootIndex ?? 0))" }
                        .joined(separator: " <- issued by <- "))
                }
                Console.out("simplelink: security alerts \(evidence.securityAlerts) of \(alertThreshold)\(evidence.locked ? ": the device is locked" : "")")
            } else if let state = run.simpleLinkState {
                Console.out("simplelink: sl_FsClose did not run; security alerts \(state.securityAlerts) of \(alertThreshold)")
            }
            Console.out(summary.summary)
            if let hint = summary.hint, !verdict.accepted {
                Console.out("hint: \(hint)")
            }
        }
        if !verdict.accepted {
            throw ExitCode(1)
        }
    }

    /// The network processor's close as JSON (--profile cc3220-simplelink only).
    private struct SimpleLinkReport: Encodable {
        struct Entry: Encodable { var subject: String; var file: String? }
        /// nil when sl_FsClose did not run (the file was refused at create).
        var code: Int32?
        var error: String?
        var detail: String?
        var chain: [Entry]
        var rootIndex: Int?
        var securityAlert: Bool
        var securityAlerts: UInt32
        var alertThreshold: UInt32
        var locked: Bool

        init(_ run: DeviceRun) {
            let evidence = run.simpleLink
            code = evidence?.code
            error = evidence?.name
            detail = evidence?.detail
            chain = evidence?.chain.map { Entry(subject: $0.subject, file: $0.file) } ?? []
            rootIndex = evidence?.rootIndex
            securityAlert = evidence?.securityAlert ?? false
            securityAlerts = run.simpleLinkState?.securityAlerts ?? 0
            alertThreshold = run.simpleLinkState?.alertThreshold ?? SimpleLinkNWP.defaultAlertThreshold
            locked = run.simpleLinkState?.locked ?? false
        }
    }

    /// The device report's fields at the top level, with the verdict and what only the C run knows.
    private struct Report: Encodable {
        var device: DeviceReport
        var signatureKey: String
        var mbedtlsError: Int32
        var runningVersion: String
        var wrappedJobDocument: Bool
        var simpleLink: SimpleLinkReport?

        enum Keys: String, CodingKey { case verdict, signatureKey, mbedtlsError, runningVersion, wrappedJobDocument, simpleLinkNWP }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(device.accepted ? "accepted" : "rejected", forKey: .verdict)
            try device.encode(to: encoder)
            try container.encode(signatureKey, forKey: .signatureKey)
            try container.encode(mbedtlsError, forKey: .mbedtlsError)
            try container.encode(runningVersion, forKey: .runningVersion)
            try container.encode(wrappedJobDocument, forKey: .wrappedJobDocument)
            try container.encodeIfPresent(simpleLink, forKey: .simpleLinkNWP)
        }
    }
}
