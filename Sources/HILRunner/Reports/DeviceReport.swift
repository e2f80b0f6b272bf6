import OTAVerifier

/// How a device verdict reads, whoever reached it (the C device in `otarig device-verify`, the twin in `otarig
/// verify`, a board in the rig): the console lines, the verdict in words with a hint, and the JSON object. One
/// wording for all, so they read side by side.
public enum DeviceConsole {
    /// What the summary needs to know about the inputs besides the verdict.
    public struct Context: Sendable {
        /// Where the device's certificates were looked up (named in the hint when certfile was not found).
        public var certificateDirectory: String
        public var imageSize: Int
        /// The job-document key the device's PAL read the signature from.
        public var signatureKey: String

        public init(certificateDirectory: String, imageSize: Int, signatureKey: String) {
            self.certificateDirectory = certificateDirectory
            self.imageSize = imageSize
            self.signatureKey = signatureKey
        }
    }

    /// The device's log lines and the job-status messages it publishes, in order, as console text.
    public static func lines(_ verdict: DeviceVerdict) -> [String] {
        verdict.events.map { event in
            switch event {
            case .log(let line): "[\(line.level.rawValue)] \(line.text)"
            case .status(let status): "publish $aws/things/<thing>/jobs/\(status.jobId)/update \(status.payload)"
            }
        }
    }

    /// The verdict in words and, for a rejection, what to do about it. `libraryDetail` adds the crypto library's own
    /// words to a signature failure.
    public static func summary(_ verdict: DeviceVerdict, context: Context, libraryDetail: String? = nil) -> (summary: String, hint: String?) {
        let job = verdict.job
        let certFile = job.map { $0.text(\.certFile) } ?? ""
        let jobError = job?.jobError ?? .unknown
        let docError = job?.docError ?? .none
        switch verdict.outcome {
        case .accepted:
            let certificate = verdict.usedFallbackCertificate ? "the compiled-in fallback certificate" : "certificate '\(certFile)'"
            var key = verdict.signerKey.map { " (\($0))" } ?? ""
            if let root = verdict.simpleLink?.root { key += ", chained to the catalog root in '\(root)'" }
            return ("ACCEPTED: the signature over \(verdict.bytesReceived) bytes (\(verdict.hash.rawValue) \(verdict.digestHex)) verifies with \(certificate)\(key)", nil)
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
                    "the image is \(context.imageSize) bytes but the job's filesize is \(job?.fileSize ?? 0): they must be equal")
        case .rejectedWrite:
            if let simpleLink = verdict.simpleLink, let error = simpleLink.error {
                return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): SimpleLink \(error.name) (\(error.rawValue))",
                        simpleLink.detail)
            }
            if verdict.palStatus.main == UInt32(PALMain.fileClose.rawValue) {
                return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): the signature verified, but the signature block the ESP32 PAL writes after the image does not fit the partition",
                        "the image is \(job?.fileSize ?? 0) bytes; keep it at least 80 bytes under the OTA partition's size")
            }
            return ("REJECTED: block \(verdict.blockIndex) (offset \(verdict.blockIndex * 4096)) could not be written: it ends past the OTA partition (IngestResultWriteBlockFailed)",
                    "the image is \(job?.fileSize ?? 0) bytes, more than the OTA partition takes; build a smaller image or a partition table with larger slots")
        case .rejectedFileCreate:
            return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): the PAL could not create a \(job?.fileSize ?? 0)-byte file; the agent aborts the job",
                    "the CC3220SF PAL takes files of at most 512 KiB (sub-code 0x80000); build a smaller image")
        case .rejectedSignature:
            if let simpleLink = verdict.simpleLink, let error = simpleLink.error {
                let alert = error.isSecurityAlert
                    ? "; a security alert: the device's count is now \(simpleLink.securityAlertsAfter) of \(simpleLink.securityAlertThreshold)" + (simpleLink.lockedAfter ? ", so it is locked from the next close" : " before it locks")
                    : ""
                return ("REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex)): SimpleLink \(error.name) (\(error.rawValue))",
                        (simpleLink.detail ?? "") + alert)
            }
            let summary = "REJECTED: \(verdict.palStatus.mainName) (status \(verdict.palStatus.hex))" + (libraryDetail.map { ": \($0)" } ?? "")
            let hint: String
            switch verdict.signatureFailure {
            case nil where verdict.palStatus.main == UInt32(PALMain.badSignerCert.rawValue):
                hint = certFile.isEmpty
                    ? "the job has no certfile; pass --fallback-cert with the certificate compiled into the device"
                    : "no certificate '\(certFile)' in '\(context.certificateDirectory)': copy it there under that name, or pass --fallback-cert"
            case .emptySignature?:
                hint = "the job document carries no \(context.signatureKey) signature (or an empty one); the device verifies nothing"
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

/// A device verdict as JSON; `otarig device-verify` prints these fields at the top level, `verify` and `explain`
/// under "device", and the rig's report per cell.
public struct DeviceReport: Codable, Equatable, Sendable {
    public struct Certificate: Codable, Equatable, Sendable { public var certfile: String; public var lookup: String?; public var fallback: Bool }
    public struct Line: Codable, Equatable, Sendable { public var level: String; public var text: String }
    public struct Published: Codable, Equatable, Sendable { public var jobId: String; public var payload: String }
    public struct SimpleLink: Codable, Equatable, Sendable {
        public var error: String?
        public var code: Int32?
        public var securityAlert: Bool
        public var detail: String?
        public var chain: [String]
        public var root: String?
        /// Each chain step: the issuer sought and where it was found ("catalog root 'f'", "file 'n': found").
        public var steps: [String]?
        /// The device's security-alert count before and after this close, and its lock threshold.
        public var securityAlertsBefore: Int?
        public var securityAlertsAfter: Int?
        public var alertThreshold: Int?
        public var locked: Bool?
    }

    public var outcome: String
    public var accepted: Bool
    public var summary: String
    public var hint: String?
    public var jobId: String
    public var palStatus: String
    public var palMain: String
    public var jobParseError: String
    public var docParseError: Int
    public var otaError: String
    public var imageState: String
    public var reset: Bool
    public var hash: String
    public var digest: String?
    public var bytesReceived: Int
    public var certificate: Certificate
    public var signerKey: String?
    public var failure: String?
    public var simpleLink: SimpleLink?
    public var log: [Line]
    public var statuses: [Published]

    public init(_ verdict: DeviceVerdict, summary: (summary: String, hint: String?)) {
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
        digest = verdict.digest.isEmpty ? nil : verdict.digestHex
        bytesReceived = verdict.bytesReceived
        certificate = Certificate(certfile: job.map { $0.text(\.certFile) } ?? "", lookup: verdict.certificateLookup?.name,
                                  fallback: verdict.usedFallbackCertificate)
        signerKey = verdict.signerKey
        failure = verdict.signatureFailure?.explanation ?? verdict.simpleLink?.detail
        simpleLink = verdict.simpleLink.map {
            SimpleLink(error: $0.error?.name, code: $0.error?.rawValue, securityAlert: $0.error?.isSecurityAlert ?? false,
                       detail: $0.detail, chain: $0.chain, root: $0.root, steps: $0.steps.map(Self.describe),
                       securityAlertsBefore: $0.securityAlertsBefore, securityAlertsAfter: $0.securityAlertsAfter,
                       alertThreshold: $0.securityAlertThreshold, locked: $0.lockedAfter)
        }
        log = verdict.log.map { Line(level: $0.level.rawValue, text: $0.text) }
        statuses = verdict.statuses.map { Published(jobId: $0.jobId, payload: $0.payload) }
    }
}

extension DeviceReport {
    static func describe(_ step: SimpleLinkEvidence.ChainStep) -> String {
        let found: String = switch step.lookup {
        case .catalogRoot(let file?): "catalog root '\(file)'"
        case .catalogRoot(nil): "catalog root of that name with another key"
        case .noCommonName: "no commonName to look up"
        case .file(let name, let found): "file '\(name)': \(found ? "found" : "not found")"
        }
        return "\(step.certificate) <- \(step.issuer): \(found)"
    }
}

/// The policy layer's findings as JSON and as console lines: one check each (revocation, expiry, certificate dates,
/// EKU) with its result and why.
public struct PolicyReport: Codable, Equatable, Sendable {
    public struct Finding: Codable, Equatable, Sendable {
        public var check: String
        public var result: String
        public var detail: String
    }

    public var passed: Bool
    public var findings: [Finding]

    public init(_ verdict: PolicyVerdict) {
        passed = verdict.passed
        findings = verdict.findings.map { Finding(check: $0.check.rawValue, result: $0.result.rawValue, detail: $0.detail) }
    }

    /// "policy: PASS signature-revoked: …", one line per finding.
    public var lines: [String] {
        findings.map { "policy: \($0.result.uppercased()) \($0.check): \($0.detail)" }
    }
}
