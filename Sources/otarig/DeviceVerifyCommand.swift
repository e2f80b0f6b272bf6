import ArgumentParser
import DeviceFirmware
import Foundation

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
        let deviceInputs = DeviceRun.Inputs(
            imagePath: inputs.image, jobDocument: loaded.document.bytes, certificateDirectory: inputs.certificateDirectory,
            fallbackCertificatePath: inputs.fallbackCertificate, signatureKey: loaded.key.name, runningVersion: loaded.version,
            platformPendingCommit: inputs.platformState == .pendingCommit)
        let run: DeviceRun
        do {
            run = try DeviceRun.run(deviceInputs)
        } catch {
            throw OtarigError("cannot run the device: \(error.message)")
        }
        if run.outcome == HilOtaInputError {
            throw OtarigError("cannot read the image '\(inputs.image)' while receiving it; check the file")
        }

        let verdict = Verdict(run: run, inputs: deviceInputs, certificateDirectory: inputs.certificateDirectory, imageSize: loaded.imageSize)
        if json {
            try printJSON(run: run, verdict: verdict, loaded: loaded)
        } else {
            printConsole(run: run, verdict: verdict, loaded: loaded)
        }
        if !run.accepted {
            throw ExitCode(1)
        }
    }

    /// The verdict in words, with what to do about it.
    struct Verdict {
        var accepted: Bool
        var summary: String
        var hint: String?

        init(run: DeviceRun, inputs: DeviceRun.Inputs, certificateDirectory: String, imageSize: Int) {
            accepted = run.accepted
            let result = run.result
            let status = String(format: "0x%08x", result.palStatus)
            switch run.outcome {
            case HilOtaAccepted:
                let certificate = result.usedFallbackCertificate ? "the compiled-in fallback certificate" : "certificate '\(run.certFile)'"
                summary = "ACCEPTED: the signature over \(result.bytesReceived) bytes (\(run.hashName) \(run.digestHex)) verifies with \(certificate)"
            case HilOtaSelfTestStarted:
                summary = "ACCEPTED: self test started: the running version is newer than the updater's (image state Testing)"
            case HilOtaNoActiveJob:
                summary = "REJECTED: no OTA job in the document (\(run.jobParseErrorName), DocParseErr_t=\(result.docErr.rawValue))"
            case HilOtaRejectedJobDocument:
                summary = "REJECTED: the agent refused the job document: \(run.jobParseErrorName), DocParseErr_t=\(result.docErr.rawValue) (\(Self.docParseErrorName(result.docErr)))"
                hint = "the log lines above name the field the agent stopped at"
            case HilOtaRejectedProtocol:
                summary = "REJECTED: protocols names neither \"MQTT\" nor \"HTTP\" (OtaErrInvalidDataProtocol); the update is aborted"
            case HilOtaRejectedBlock:
                summary = "REJECTED: block \(result.blockIndex) arrived with \(result.blockSize) bytes, which filesize does not allow (Block range check failed)"
                hint = "the image is \(imageSize) bytes but the job's filesize is \(run.fileSize): they must be equal"
            case HilOtaRejectedSignature:
                var text = "REJECTED: \(run.palMainName) (status \(status))"
                if let mbedtls = run.mbedtlsErrorText { text += ": mbedTLS: \(mbedtls) (-0x\(String(-result.mbedtlsError, radix: 16)))" }
                summary = text
                if result.palStatus >> 24 == UInt32(HilPalBadSignerCert.rawValue) {
                    hint = run.certFile.isEmpty
                        ? "the job has no certfile; pass --fallback-cert with the certificate compiled into the device"
                        : "no certificate '\(run.certFile)' in '\(certificateDirectory)': copy it there under that name, or pass --fallback-cert"
                } else if result.cryptoResult == HilCryptoBadInput {
                    hint = "the job document carries no \(inputs.signatureKey) signature (or an empty one); the device verifies nothing"
                } else if result.cryptoResult == HilCryptoBadCertificate {
                    hint = "mbedtls_x509_crt_parse refused the certificate; devices do too (see mbedTLS's message)"
                } else {
                    hint = "the image, the signature and the certificate do not belong together"
                }
            case HilOtaRejectedVersion:
                summary = "REJECTED: \(run.otaErrorName) in self test: the updater's version must be lower than the running one"
            case HilOtaRejectedImageState:
                summary = "REJECTED: the job's self-test state and the platform's image state disagree; the device resets"
                hint = "a self-test job needs --platform-state pending-commit, and a download job needs valid"
            default:
                summary = "REJECTED: \(run.outcomeName)"
            }
        }

        static func docParseErrorName(_ error: HilDocParseErr_t) -> String {
            switch error {
            case HilDocParseErrNone: return "None"
            case HilDocParseErrOutOfMemory: return "OutOfMemory"
            case HilDocParseErrUserBufferInsufficient: return "UserBufferInsufficient"
            case HilDocParseErrFieldTypeMismatch: return "FieldTypeMismatch"
            case HilDocParseErrBase64Decode: return "Base64Decode"
            case HilDocParseErrInvalidNumChar: return "InvalidNumChar"
            case HilDocParseErrDuplicatesNotAllowed: return "DuplicatesNotAllowed"
            case HilDocParseErrMalformedDoc: return "MalformedDoc"
            case HilDocParseErrInvalidJSONBuffer: return "InvalidJSONBuffer"
            case HilDocParseErrEmptyJobDoc: return "EmptyJobDoc"
            default: return "Unknown"
            }
        }
    }

    private func printConsole(run: DeviceRun, verdict: Verdict, loaded: DeviceInputOptions.Loaded) {
        Console.out("device: mbedTLS PAL, " + inputs.describe(loaded))
        for event in run.events {
            switch event {
            case .log(let line): Console.out("[\(line.level)] \(line.text)")
            case .status(let status): Console.out("publish $aws/things/<thing>/jobs/\(status.jobId)/update \(status.payload)")
            }
        }
        Console.out(verdict.summary)
        if let hint = verdict.hint, !verdict.accepted {
            Console.out("hint: \(hint)")
        }
    }

    private struct Report: Encodable {
        struct Line: Encodable { var level: String; var text: String }
        struct Published: Encodable { var jobId: String; var payload: String }
        struct Certificate: Encodable { var certfile: String; var lookup: String; var fallback: Bool }
        var verdict: String
        var outcome: String
        var summary: String
        var hint: String?
        var jobId: String
        var signatureKey: String
        var hash: String
        var digest: String?
        var bytesReceived: UInt32
        var palStatus: String
        var palMain: String
        var jobParseError: String
        var docParseError: Int32
        var otaError: String
        var mbedtlsError: Int32
        var certificate: Certificate
        var imageState: String
        var reset: Bool
        var runningVersion: String
        var wrappedJobDocument: Bool
        var log: [Line]
        var statuses: [Published]
    }

    private func printJSON(run: DeviceRun, verdict: Verdict, loaded: DeviceInputOptions.Loaded) throws {
        let key = loaded.key
        let result = run.result
        let report = Report(
            verdict: verdict.accepted ? "accepted" : "rejected", outcome: run.outcomeName, summary: verdict.summary,
            hint: verdict.accepted ? nil : verdict.hint, jobId: run.jobId, signatureKey: key.name, hash: run.hashName,
            digest: result.outcome == HilOtaAccepted || result.outcome == HilOtaRejectedSignature ? run.digestHex : nil,
            bytesReceived: result.bytesReceived, palStatus: String(format: "0x%08x", result.palStatus), palMain: run.palMainName,
            jobParseError: run.jobParseErrorName, docParseError: result.docErr.rawValue, otaError: run.otaErrorName,
            mbedtlsError: result.mbedtlsError,
            certificate: .init(certfile: run.certFile, lookup: DeviceRun.certLookupName(result.certLookup), fallback: result.usedFallbackCertificate),
            imageState: DeviceRun.imageStateName(result.imageState), reset: result.reset,
            runningVersion: DeviceInputOptions.describeVersion(loaded.version), wrappedJobDocument: loaded.document.wrapped,
            log: run.log.map { .init(level: $0.level, text: $0.text) },
            statuses: run.statuses.map { .init(jobId: $0.jobId, payload: $0.payload) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
