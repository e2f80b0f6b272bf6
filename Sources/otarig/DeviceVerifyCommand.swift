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

    @Option(help: ArgumentHelp("The OTA file as the device would receive it.", valueName: "file"))
    var image: String

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("The job document (afr_ota) or job execution message (JSON).", valueName: "file"))
    var jobDocument: String

    @Option(name: .customLong("cert-dir"), help: ArgumentHelp("Where the device's certificates are, named as the job's certfile.", valueName: "dir"))
    var certificateDirectory: String

    @Option(name: .customLong("fallback-cert"), help: ArgumentHelp("The certificate compiled into the image (PEM or DER), used when certfile is not found.", valueName: "file"))
    var fallbackCertificate: String?

    @Option(name: .customLong("running-version"), help: ArgumentHelp("The running firmware's version, X.Y.Z or a 0x word (major<<24|minor<<16|build).", valueName: "version"))
    var runningVersion: String = "1.0.0"

    @Option(name: .customLong("signature-key"), help: ArgumentHelp("The job-document key the device's PAL reads (sig-sha256-ecdsa on ESP32, sig-sha1-rsa on CC3220SF); 'auto' takes the one the document has.", valueName: "key"))
    var signatureKey: String = "auto"

    @Option(name: .customLong("platform-state"), help: ArgumentHelp("The running image's PAL state: valid, or pending-commit (just activated, in self test).", valueName: "state"))
    var platformState: PlatformState = .valid

    @Flag(help: "Hand the job document's bytes to the device even when they are not valid JSON.")
    var raw = false

    @Flag(help: "Print one JSON object (log, statuses, verdict) instead of the console.")
    var json = false

    enum PlatformState: String, ExpressibleByArgument, CaseIterable {
        case valid
        case pendingCommit = "pending-commit"
    }

    /// The job id given to a bare afr_ota document when it is run as a job execution.
    static let localJobId = "AFR_OTA-otarig-device-verify"

    func run() throws {
        let version = try Self.parseVersion(runningVersion)
        let imageSize = try Files.size(image, what: "image")
        try checkCertificateDirectory()
        let original = try Files.read(jobDocument, what: "job document")
        guard original.count <= 64 * 1024 else {
            throw OtarigError("the job document '\(jobDocument)' is \(original.count) bytes; a job document is at most 32 KiB (AWS IoT's limit); check the file")
        }
        let prepared = try prepareJobDocument(original)
        let key = try resolveSignatureKey(prepared)

        let inputs = DeviceRun.Inputs(
            imagePath: image, jobDocument: prepared.bytes, certificateDirectory: certificateDirectory,
            fallbackCertificatePath: fallbackCertificate, signatureKey: key.name, runningVersion: version,
            platformPendingCommit: platformState == .pendingCommit)
        let run: DeviceRun
        do {
            run = try DeviceRun.run(inputs)
        } catch {
            throw OtarigError("cannot run the device: \(error.message)")
        }
        if run.outcome == HilOtaInputError {
            throw OtarigError("cannot read the image '\(image)' while receiving it; check the file")
        }

        let verdict = Verdict(run: run, inputs: inputs, certificateDirectory: certificateDirectory, imageSize: imageSize)
        if json {
            try printJSON(run: run, verdict: verdict, key: key, wrapped: prepared.wrapped, version: version)
        } else {
            printConsole(run: run, verdict: verdict, key: key, wrapped: prepared.wrapped, version: version)
        }
        if !run.accepted {
            throw ExitCode(1)
        }
    }

    // MARK: inputs

    static func parseVersion(_ text: String) throws -> UInt32 {
        if text.lowercased().hasPrefix("0x"), let word = UInt32(text.dropFirst(2), radix: 16) {
            return word
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let major = UInt32(parts[0]), let minor = UInt32(parts[1]), let build = UInt32(parts[2]),
              major <= 255, minor <= 255, build <= 65535
        else {
            throw OtarigError("--running-version '\(text)' is not a FreeRTOS version: write X.Y.Z with X and Y at most 255 and Z at most 65535 (e.g. 1.0.1), or a 0x word such as 0x01000001")
        }
        return major << 24 | minor << 16 | build
    }

    private func checkCertificateDirectory() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: certificateDirectory, isDirectory: &isDirectory) else {
            throw OtarigError("the certificate directory '\(certificateDirectory)' does not exist; pass the directory that holds the certificate the job's certfile names")
        }
        guard isDirectory.boolValue else {
            throw OtarigError("--cert-dir '\(certificateDirectory)' is a file, not a directory; pass its directory, or pass the file as --fallback-cert")
        }
        if let fallbackCertificate {
            _ = try Files.size(fallbackCertificate, what: "fallback certificate")
            return
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: certificateDirectory)) ?? []
        let files = entries.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: certificateDirectory + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        guard !files.isEmpty else {
            throw OtarigError("the certificate directory '\(certificateDirectory)' is empty; put the code-signing certificate there under the job's certfile name, or pass --fallback-cert")
        }
    }

    struct PreparedDocument {
        var bytes: [UInt8]
        var wrapped: Bool
        var object: [String: Any]?
    }

    /// The bytes the device receives: a bare afr_ota document becomes a job execution message around it.
    private func prepareJobDocument(_ data: Data) throws -> PreparedDocument {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            if raw {
                return PreparedDocument(bytes: Array(data), wrapped: false, object: nil)
            }
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "it does not parse"
            throw OtarigError("the job document '\(jobDocument)' is not valid JSON (\(reason)); fix it, or pass --raw to see what a device does with these bytes")
        }
        guard let object = parsed as? [String: Any] else {
            if raw { return PreparedDocument(bytes: Array(data), wrapped: false, object: nil) }
            throw OtarigError("the job document '\(jobDocument)' is not a JSON object; expected {\"afr_ota\": ...} or {\"execution\": ...}, or pass --raw")
        }
        if object["execution"] == nil, object["afr_ota"] != nil {
            var message = Array(#"{"clientToken":"0:otarig","timestamp":0,"execution":{"jobId":"\#(Self.localJobId)","status":"QUEUED","jobDocument":"#.utf8)
            message.append(contentsOf: data)
            message.append(contentsOf: Array("}}".utf8))
            return PreparedDocument(bytes: message, wrapped: true, object: ["execution": ["jobDocument": object]])
        }
        if object["execution"] == nil, !raw {
            throw OtarigError("the job document '\(jobDocument)' has neither afr_ota nor execution; it is not an OTA job (pass --raw to run it anyway)")
        }
        return PreparedDocument(bytes: Array(data), wrapped: false, object: object)
    }

    struct SignatureKey {
        var name: String
        var detected: Bool
    }

    private func resolveSignatureKey(_ document: PreparedDocument) throws -> SignatureKey {
        guard signatureKey == "auto" else {
            guard signatureKey.hasPrefix("sig-"), signatureKey.utf8.count <= 32 else {
                throw OtarigError("--signature-key '\(signatureKey)' is not a signature key: use sig-<hash>-<alg> (sig-sha256-ecdsa, sig-sha256-rsa, sig-sha1-rsa) or auto")
            }
            return SignatureKey(name: signatureKey, detected: false)
        }
        let execution = document.object?["execution"] as? [String: Any]
        let job = execution?["jobDocument"] as? [String: Any]
        let files = (job?["afr_ota"] as? [String: Any])?["files"] as? [[String: Any]]
        let keys = Set((files ?? []).flatMap { $0.keys.filter { $0.hasPrefix("sig-") } }).sorted()
        switch keys.count {
        case 0: return SignatureKey(name: "sig-sha256-ecdsa", detected: false)
        case 1: return SignatureKey(name: keys[0], detected: true)
        default:
            throw OtarigError("the job document signs with \(keys.joined(separator: " and ")); pass --signature-key with the one your device's PAL reads")
        }
    }

    // MARK: output

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

    private func describeVersion(_ version: UInt32) -> String {
        "\(version >> 24).\((version >> 16) & 0xff).\(version & 0xffff)"
    }

    private func printConsole(run: DeviceRun, verdict: Verdict, key: SignatureKey, wrapped: Bool, version: UInt32) {
        var header = "device: mbedTLS PAL, signature key \(key.name)\(key.detected ? " (from the job document)" : ""), running version \(describeVersion(version)), platform image \(platformState == .pendingCommit ? "PendingCommit" : "Valid")"
        if wrapped { header += "; job document run as job \(Self.localJobId)" }
        Console.out(header)
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

    private func printJSON(run: DeviceRun, verdict: Verdict, key: SignatureKey, wrapped: Bool, version: UInt32) throws {
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
            runningVersion: describeVersion(version), wrappedJobDocument: wrapped,
            log: run.log.map { .init(level: $0.level, text: $0.text) },
            statuses: run.statuses.map { .init(jobId: $0.jobId, payload: $0.payload) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
