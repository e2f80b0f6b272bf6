import CodeSigning
import Foundation
import OTAVerifier

/// How `otarig device-verify` (the C device) and `otarig verify` (the twin) show a device verdict: the console, the
/// verdict in words with a hint, and the JSON object. One wording for both, so they read side by side.
enum DeviceConsole {
    /// The device's log lines and the job-status messages it publishes, in order.
    static func printEvents(_ verdict: DeviceVerdict) {
        for event in verdict.events {
            switch event {
            case .log(let line): Console.out("[\(line.level.rawValue)] \(line.text)")
            case .status(let status): Console.out("publish $aws/things/<thing>/jobs/\(status.jobId)/update \(status.payload)")
            }
        }
    }

    /// The verdict in words and, for a rejection, what to do about it. `libraryDetail` adds the crypto library's own
    /// words to a signature failure.
    static func summary(_ verdict: DeviceVerdict, inputs: DeviceInputOptions, loaded: DeviceInputOptions.Loaded,
                        libraryDetail: String? = nil) -> (summary: String, hint: String?) {
        let job = verdict.job
        let certFile = job.map { $0.text(\.certFile) } ?? ""
        let jobError = job?.jobError ?? .unknown
        let docError = job?.docError ?? .none
        switch verdict.outcome {
        case .accepted:
            let certificate = verdict.usedFallbackCertificate ? "the compiled-in fallback certificate" : "certificate '\(certFile)'"
            var key = verdict.signerKey.map { " (\($0))" } ?? ""
            if let root = verdict.simpleLink?.root { key += ", chained to the catalog root in '\(root)'" }
            return ("ACCEPTED: the signature over \(verdict.bytesReceived) bytes (\(verdict.hash.rawValue) \(verdict.digest.hexString)) verifies with \(certificate)\(key)", nil)
        case .selfTestStarted:
            return ("ACCEPTED: self test started: the running version is newer than the updater's (image state Testing)", nil)
        case .noActiveJob:
            return ("REJECTED: no OTA job in the document (\(jobError.freeRTOSName), DocParseErr_t=\(docError.rawValue))", nil)
        case .rejectedJobDocument:
            return ("REJECTED: the agent refused the job document: \(jobError.freeRTOSName), DocParseErr_t=\(docError.rawValue) (\(docError.freeRTOSName))",
                    "the log lines above name the field the agent stopped at")
        case .rejectedProtocol:
            return ("REJECTED: protocols names neither \"MQTT\" nor \"HTTP\" (OtaErrInvalidDataProtocol); the update is aborted", nil)
        case .rejectedBlock:
            return ("REJECTED: block \(verdict.blockIndex) arrived with \(verdict.blockSize) bytes, which filesize does not allow (Block range check failed)",
                    "the image is \(loaded.imageSize) bytes but the job's filesize is \(job?.fileSize ?? 0): they must be equal")
        case .rejectedFileCreate:
            return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): the PAL could not create a \(job?.fileSize ?? 0)-byte file; the agent aborts the job",
                    "the CC3220SF PAL takes files of at most 512 KiB (sub-code 0x80000); build a smaller image")
        case .rejectedSignature:
            if let simpleLink = verdict.simpleLink, let error = simpleLink.error {
                let alert = error.isSecurityAlert ? "; a security alert: the device counts these and locks itself after 15 (by default)" : ""
                return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): SimpleLink \(error.name) (\(error.rawValue))",
                        (simpleLink.detail ?? "") + alert)
            }
            let summary = "REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex))" + (libraryDetail.map { ": \($0)" } ?? "")
            let hint: String
            switch verdict.signatureFailure {
            case nil where verdict.palStatus.main == UInt32(PALMain.badSignerCert.rawValue):
                hint = certFile.isEmpty
                    ? "the job has no certfile; pass --fallback-cert with the certificate compiled into the device"
                    : "no certificate '\(certFile)' in '\(inputs.certificateDirectory)': copy it there under that name, or pass --fallback-cert"
            case .emptySignature?:
                hint = "the job document carries no \(loaded.key.name) signature (or an empty one); the device verifies nothing"
            case let failure?:
                hint = failure.explanation
            case nil:
                hint = "the image, the signature and the certificate do not belong together"
            }
            return (summary, hint)
        case .rejectedVersion:
            return ("REJECTED: \(verdict.otaError.freeRTOSName) in self test: the updater's version must be lower than the running one", nil)
        case .rejectedImageState:
            return ("REJECTED: the job's self-test state and the platform's image state disagree; the device resets",
                    "a self-test job needs --platform-state pending-commit, and a download job needs valid")
        }
    }
}

/// A device verdict as JSON; both commands print these fields, device-verify at the top level, verify under "device".
struct DeviceReport: Encodable {
    struct Certificate: Encodable { var certfile: String; var lookup: String?; var fallback: Bool }
    struct Line: Encodable { var level: String; var text: String }
    struct Published: Encodable { var jobId: String; var payload: String }
    struct SimpleLink: Encodable {
        var error: String?
        var code: Int32?
        var securityAlert: Bool
        var detail: String?
        var chain: [String]
        var root: String?
    }

    var outcome: String
    var accepted: Bool
    var summary: String
    var hint: String?
    var jobId: String
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
    var simpleLink: SimpleLink?
    var log: [Line]
    var statuses: [Published]

    init(_ verdict: DeviceVerdict, summary: (summary: String, hint: String?)) {
        let job = verdict.job
        outcome = verdict.outcome.rawValue
        accepted = verdict.accepted
        self.summary = summary.summary
        hint = verdict.accepted ? nil : summary.hint
        jobId = job.map { $0.text(\.jobId) } ?? ""
        palStatus = verdict.palStatus.hex
        palMain = verdict.palStatus.mainName
        jobParseError = job?.jobError.freeRTOSName ?? ""
        docParseError = job?.docError.rawValue ?? 0
        otaError = verdict.otaError.freeRTOSName
        imageState = verdict.imageState.name
        reset = verdict.reset
        hash = verdict.hash.rawValue
        digest = verdict.digest.isEmpty ? nil : verdict.digest.hexString
        bytesReceived = verdict.bytesReceived
        certificate = Certificate(certfile: job.map { $0.text(\.certFile) } ?? "", lookup: verdict.certificateLookup?.name,
                                  fallback: verdict.usedFallbackCertificate)
        signerKey = verdict.signerKey
        failure = verdict.signatureFailure?.explanation ?? verdict.simpleLink?.detail
        simpleLink = verdict.simpleLink.map {
            SimpleLink(error: $0.error?.name, code: $0.error?.rawValue, securityAlert: $0.error?.isSecurityAlert ?? false,
                       detail: $0.detail, chain: $0.chain, root: $0.root)
        }
        log = verdict.log.map { Line(level: $0.level.rawValue, text: $0.text) }
        statuses = verdict.statuses.map { Published(jobId: $0.jobId, payload: $0.payload) }
    }
}

enum JSONOutput {
    /// Pretty-printed with sorted keys, so two runs diff cleanly.
    static func print(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
