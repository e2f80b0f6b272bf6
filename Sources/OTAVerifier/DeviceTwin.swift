import Foundation

/// The host twin of a FreeRTOS device receiving one OTA job: the v3 agent's steps (the same ones the C core in
/// Firmware/ runs) with a PAL profile's close. Pure: the image, the job document and the certificates come in as
/// values; the log lines, job-status messages and verdict go out as values.

/// What the PAL finds under the job's certfile.
public enum CertificateLookup: Sendable, Equatable {
    case found([UInt8])
    case notFound
    case unreadable

    public var name: String {
        switch self {
        case .found: "found"
        case .notFound: "not-found"
        case .unreadable: "unreadable"
        }
    }
}

public struct DeviceInputs: Sendable {
    public var profile: PALProfile
    public var jobDocument: [UInt8]
    /// The file's bytes (a mapped file, for a large image).
    public var image: Data
    /// The PAL's signature key; the profile's by default.
    public var signatureKey: String
    /// appFirmwareVersion: major << 24 | minor << 16 | build.
    public var runningVersion: UInt32
    /// The PAL reports PendingCommit (a new image in its self test).
    public var platformPendingCommit: Bool
    /// The certificate compiled into the image (ESP32) or the PAL source (POSIX).
    public var fallbackCertificate: [UInt8]?
    /// The certificate under a certfile name (a PKCS#11 label or a path).
    public var certificates: @Sendable (String) -> CertificateLookup
    public var limits: JobDocumentLimits
    /// The CC3220SF's trusted root catalog.
    public var rootCatalog: RootCatalog?
    /// The CC3220SF's SimpleLink file system: the signer certificate under certfile and each issuer certificate
    /// under its "Issued To" name, relative to the file system's root. nil: read through `certificates` (a file
    /// found is its bytes, one unreadable is empty, so it reads as no certificate).
    public var fileSystem: SimpleLinkFileLookup?
    /// The CC3220SF's security-alert count before this close (0 on a fresh device) and its lock threshold (15 by
    /// default); at the threshold every secure close is SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT.
    public var securityAlerts: Int
    public var securityAlertThreshold: Int
    /// The opt-in device policy an enforcing device runs after the signature verified (the C core's
    /// `HilPal_t.pPolicy`, for the mbedTLS close of `esp32-mbedtls`); nil: the stock device.
    public var devicePolicy: DevicePolicyConfig?
    /// The size of the partition the PAL writes the file into (the C core's `HilPal_t.partitionSize`); nil:
    /// unlimited. On `esp32-mbedtls` a block that ends past it fails to write, and so does the signature block the
    /// close appends after the image (`PALProfile.closeTrailerSize`).
    public var partitionSize: Int?

    public init(profile: PALProfile, jobDocument: [UInt8], image: Data, signatureKey: String? = nil,
                runningVersion: UInt32 = 0x0100_0000, platformPendingCommit: Bool = false,
                fallbackCertificate: [UInt8]? = nil, limits: JobDocumentLimits = .freeRTOSDefaults,
                rootCatalog: RootCatalog? = nil, devicePolicy: DevicePolicyConfig? = nil, partitionSize: Int? = nil,
                fileSystem: SimpleLinkFileLookup? = nil, securityAlerts: Int = 0,
                securityAlertThreshold: Int = 15,
                certificates: @escaping @Sendable (String) -> CertificateLookup) {
        self.profile = profile
        self.jobDocument = jobDocument
        self.image = image
        self.signatureKey = signatureKey ?? profile.signatureKey
        self.runningVersion = runningVersion
        self.platformPendingCommit = platformPendingCommit
        self.fallbackCertificate = fallbackCertificate
        self.limits = limits
        self.rootCatalog = rootCatalog
        self.devicePolicy = devicePolicy
        self.partitionSize = partitionSize
        self.fileSystem = fileSystem
        self.securityAlerts = securityAlerts
        self.securityAlertThreshold = securityAlertThreshold
        self.certificates = certificates
    }

    /// The file system the CC3220SF close reads: `fileSystem`, or `certificates` seen as one.
    public var simpleLinkFiles: SimpleLinkFileLookup {
        if let fileSystem { return fileSystem }
        let certificates = self.certificates
        return { name in
            switch certificates(name) {
            case .found(let bytes): bytes
            case .unreadable: []
            case .notFound: nil
            }
        }
    }

    /// The digest the profile's PAL computes: POSIX always SHA-256 (EVP_sha256), the CC3220SF always SHA-1, the
    /// mbedTLS PALs the hash their signature key names.
    public var hash: ImageHash {
        switch profile {
        case .posixOpenSSL: .sha256
        case .cc3220SimpleLink: .sha1
        case .esp32MbedTLS: signatureKey.contains("sha1") ? .sha1 : .sha256
        }
    }
}

/// One job-status message: the payload published to `$aws/things/<thing>/jobs/<jobId>/update`.
public struct JobStatusMessage: Equatable, Sendable {
    public var jobId: String
    public var payload: String

    public init(jobId: String, payload: String) {
        self.jobId = jobId
        self.payload = payload
    }
}

/// What the device printed and published, in order.
public enum DeviceEvent: Equatable, Sendable {
    case log(LogLine)
    case status(JobStatusMessage)
}

/// The device-equivalent verdict.
public struct DeviceVerdict: Sendable {
    public var outcome: DeviceOutcome = .rejectedJobDocument
    public var palStatus = PALStatus(.uninitialized)
    public var ingestResult = 0
    public var otaError: OtaError = .none
    public var job: ParsedJobDocument?
    public var events: [DeviceEvent] = []
    public var imageState: ImageState = .unknown
    public var reset = false
    public var hash: ImageHash = .sha256
    public var digest: [UInt8] = []
    public var bytesReceived = 0
    public var blockIndex = 0
    public var blockSize = 0
    public var certificateLookup: CertificateLookup?
    public var usedFallbackCertificate = false
    public var signerKey: String?
    public var signatureFailure: SignatureFailure?
    /// The CC3220SF network processor's findings.
    public var simpleLink: SimpleLinkEvidence?
    /// Why an enforcing device's policy refused a signature that verified (palStatus is SignatureCheckFailed with
    /// this sub-code); nil when the policy passed, was off, or never ran.
    public var devicePolicyRefusal: DevicePolicyRefusal?

    public init() {}

    public var log: [LogLine] { events.compactMap { if case .log(let line) = $0 { line } else { nil } } }
    public var statuses: [JobStatusMessage] { events.compactMap { if case .status(let status) = $0 { status } else { nil } } }
    public var accepted: Bool { outcome.isAcceptance }
}

public enum DeviceTwin {
    /// otaconfigOTA_UPDATE_STATUS_FREQUENCY: a "receive" status after the first block and every 64.
    static let updateStatusFrequency = 64
    private static let reasonStrings = ["", "ready", "active", "accepted", "rejected", "aborted"]
    private enum Reason: Int { case receiving = 0, sigCheckPassed, selfTestActive, accepted, rejected, aborted }

    /// Runs the job through the agent and the profile's PAL.
    public static func run(_ inputs: DeviceInputs) -> DeviceVerdict {
        var run = Run(inputs: inputs)
        run.process()
        return run.verdict
    }

    private struct Run {
        let inputs: DeviceInputs
        var verdict = DeviceVerdict()
        var activeJobName = ""

        init(inputs: DeviceInputs) {
            self.inputs = inputs
            verdict.hash = inputs.hash
        }

        mutating func log(_ level: LogLine.Level, _ text: String) {
            verdict.events.append(.log(LogLine(level: level, text: text)))
        }

        mutating func publish(_ payload: String) {
            verdict.events.append(.status(JobStatusMessage(jobId: activeJobName, payload: payload)))
        }

        // MARK: job-status messages (ota_mqtt.c)

        mutating func publishSelfTest(_ reason: Reason) {
            publish(#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"\#(reasonStrings[reason.rawValue])","updatedBy":"0x\#(Hex.word(inputs.runningVersion))"}}"#)
        }

        mutating func publishFailedWithValue(_ reason: UInt32, _ subReason: UInt32) {
            publish(#"{"status":"FAILED","statusDetails":{"reason":"0x\#(Hex.word(reason)): 0x\#(Hex.word(subReason))"}}"#)
        }

        mutating func publishFailed(_ reason: Reason, _ subReason: UInt32) {
            publish(#"{"status":"FAILED","statusDetails":{"reason":"\#(reasonStrings[reason.rawValue]): 0x\#(Hex.word(subReason))"}}"#)
        }

        mutating func publishSucceeded(_ reason: Reason, _ subReason: UInt32, previous: UInt32) {
            publish(#"{"status":"SUCCEEDED","statusDetails":{"reason":"\#(reasonStrings[reason.rawValue])  v\#(AppVersion.text(subReason))","updatedBy":"  v\#(AppVersion.text(previous))"}}"#)
        }


        // MARK: image state (setImageStateWithReason)

        mutating func setImageState(_ state: ImageState, reason: UInt32) {
            // The twin's PALs always set the state; a failing PAL is the C port's test hook only.
            verdict.imageState = state
            guard !activeJobName.isEmpty else {
                log(.warn, "Failed to set image state with reason: OtaErr_t=OtaErrNoActiveJob, OtaPalStatus_t=OtaPalSuccess, state=\(state.rawValue), reason=\(reason)")
                return
            }
            switch state {
            case .testing:
                publishSelfTest(.selfTestActive)
            case .accepted:
                publishSucceeded(.accepted, inputs.runningVersion, previous: verdict.job?.updatedBy ?? 0)
                activeJobName = ""
            default:
                publishFailed(state == .rejected ? .rejected : .aborted, reason)
                activeJobName = ""
            }
        }

        mutating func resetDevice() { verdict.reset = true }

        // MARK: the job

        mutating func process() {
            let parser = JobDocumentParser(limits: inputs.limits, signatureKey: inputs.signatureKey)
            let job = parser.parse(inputs.jobDocument)
            verdict.job = job
            for line in job.log { verdict.events.append(.log(line)) }
            let jobError = job.jobError

            if job.docError == .none {
                switch jobError {
                case .zeroFileSize:
                    log(.error, "Parameter check failed: pFileContext->fileSize is 0: File size should be > 0.")
                case .badModelInitParams:
                    log(.error, "Parameter check failed: pFileContext->fileSize (\(job.fileSize)) greater than can be tracked.")
                    let blocks = inputs.limits.maxBlockBitmapSize * 8
                    log(.warn, "Largest trackable size: OTA_MAX_BLOCK_BITMAP_SIZE (\(inputs.limits.maxBlockBitmapSize)) * BITS_PER_BYTE (8) = \(blocks)")
                case .none:
                    activeJobName = job.text(\.jobId)
                    if job.inSelfTest {
                        guard handleSelfTestJobDoc(job) else { return }
                    } else {
                        log(.info, "Job document was accepted. Attempting to begin the update.")
                    }
                default:
                    break
                }
            } else if jobError == .nonConformingJobDoc, !job.text(\.jobId).isEmpty {
                activeJobName = job.text(\.jobId)
            }

            switch jobError {
            case .none:
                log(.info, "Job parsing success: OtaJobParseErr_t=\(jobError.freeRTOSName), Job name=\(job.text(\.jobId))")
            case .badModelInitParams:
                log(.info, "Unable to initialize Job Parsing: OtaJobParseErr_t=\(jobError.freeRTOSName)")
            case .noActiveJobs:
                log(.info, "No active job available in received job document: OtaJobParseErr_t=\(jobError.freeRTOSName)")
            default:
                log(.error, "Failed to parse the job document after parsing the job name: OtaJobParseErr_t=\(jobError.freeRTOSName), Job name=\(job.text(\.jobId))")
                if !activeJobName.isEmpty {
                    publishFailedWithValue(UInt32(OtaError.jobParserError.rawValue), UInt32(bitPattern: Int32(jobError.rawValue)))
                    activeJobName = ""
                }
            }
            if job.docError == .emptyJobDoc {
                log(.info, "Emtpy job document found")
            }

            guard jobError == .none else {
                verdict.outcome = jobError == .noActiveJobs ? .noActiveJob : .rejectedJobDocument
                verdict.otaError = job.otaError != .none ? job.otaError : .jobParserError
                return
            }
            guard job.otaError == .none else {
                verdict.otaError = job.otaError
                return
            }

            if job.inSelfTest {
                log(.info, "Beginning self-test.")
                if inputs.platformPendingCommit {
                    verdict.outcome = .selfTestStarted
                    return
                }
                log(.warn, "Rejecting new image and rebooting:The job is in the self-test state while the platform is not.")
                verdict.otaError = .imageStateMismatch
                verdict.outcome = .rejectedImageState
                setImageState(.rejected, reason: UInt32(OtaError.imageStateMismatch.rawValue))
                resetDevice()
                return
            }

            if inputs.platformPendingCommit {
                log(.warn, "Rejecting new image and rebooting:The platform is in the self-test state while the job is not.")
                verdict.outcome = .rejectedImageState
                resetDevice()
                return
            }

            guard JobDocumentParser.checkProtocols(job) == .none else {
                log(.error, "Failed to set OTA data interface: OtaErr_t=OtaErrInvalidDataProtocol, aborting current update.")
                verdict.otaError = .invalidDataProtocol
                verdict.outcome = .rejectedProtocol
                setImageState(.aborted, reason: UInt32(OtaError.invalidDataProtocol.rawValue))
                return
            }
            guard createFile(job) else { return }
            log(.info, "Setting OTA data interface.")
            receiveFile(job)
        }

        /// handleSelfTestJobDoc / validateUpdateVersion. Returns false when the device resets.
        mutating func handleSelfTestJobDoc(_ job: ParsedJobDocument) -> Bool {
            log(.info, "In self test mode.")
            let running = inputs.runningVersion
            let versionError = JobDocumentParser.checkSelfTestVersion(job, runningVersion: running)
            switch versionError {
            case .sameFirmwareVersion:
                log(.warn, "Application version of the new image is identical to the current image: New images are expected to have a higher version number: ")
            case .downgradeNotAllowed:
                log(.warn, "Application version of the new image is lower than the current image: New images are expected to have a higher version number.")
            default:
                if job.fileId == 0, job.fileType == inputs.limits.firmwareFileTypeID {
                    log(.info, "New image has a higher version number than the current image: New image version=\(AppVersion.text(running)), Previous image version=\(AppVersion.text(job.updatedBy))")
                }
            }
            if versionError == .none {
                log(.info, "Image version is valid: Begin testing file: File ID=\(Int32(bitPattern: job.fileId))")
                setImageState(.testing, reason: 0)
                return true
            }
            log(.warn, "New image is being rejected: Application version of the new image is invalid: OtaErr_t=\(versionError.freeRTOSName)")
            verdict.otaError = versionError
            verdict.outcome = .rejectedVersion
            setImageState(.rejected, reason: UInt32(versionError.rawValue))
            resetDevice()
            return false
        }

        // MARK: receiving the file

        /// getFileContextFromJob's createFile. A failure sets the image state Aborted with the PAL status as the
        /// reason, and the agent drops the file context (processNullFileContext: OtaErrJobParserError).
        mutating func createFile(_ job: ParsedJobDocument) -> Bool {
            guard inputs.profile == .cc3220SimpleLink, job.fileType == inputs.limits.firmwareFileTypeID,
                  Int(job.fileSize) > SimpleLinkClose.maxFileSize
            else { return true }
            let status = PALStatus(.rxFileTooLarge, sub: UInt32(SimpleLinkClose.maxFileSize))
            verdict.palStatus = status
            verdict.otaError = .jobParserError
            verdict.outcome = .rejectedFileCreate
            setImageState(.aborted, reason: status.rawValue)
            return false
        }

        mutating func rejectIngest(_ ingestResult: Int, _ closeResult: PALStatus) {
            log(.error, "Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=\(ingestResult)")
            verdict.imageState = .rejected
            publishFailedWithValue(closeResult.main, closeResult.sub)
            activeJobName = ""
        }

        mutating func receiveFile(_ job: ParsedJobDocument) {
            let blockSize = inputs.limits.fileBlockSize
            let fileSize = Int(job.fileSize)
            let blocks = (fileSize + blockSize - 1) / blockSize
            for index in 0..<blocks {
                let offset = index * blockSize
                let expected = index + 1 < blocks ? blockSize : fileSize - offset
                // The stream carries the file as it is: block i is whatever of the file lies at its offset.
                let got = max(0, min(blockSize, inputs.image.count - offset))
                if got != expected {
                    verdict.blockIndex = index
                    verdict.blockSize = got
                    verdict.ingestResult = -7
                    verdict.outcome = .rejectedBlock
                    log(.error, "Block range check failed: Received a block outside of the expected range: Block index=\(index), Block size=\(got)")
                    rejectIngest(-7, PALStatus(.uninitialized))
                    return
                }
                // processDataBlock → the PAL's writeBlock: past the partition it fails (ESP32: esp_ota_write_with_offset),
                // and the agent rejects the image with a close result nobody set.
                if let partitionSize = inputs.partitionSize, offset + got > partitionSize {
                    verdict.blockIndex = index
                    verdict.blockSize = got
                    verdict.ingestResult = -9
                    verdict.outcome = .rejectedWrite
                    log(.error, "Couldn't flash at the offset \(Int32(truncatingIfNeeded: offset))")
                    log(.error, "Failed to ingest received block: iBytesWritten: -1, IngestResult_t=-9")
                    rejectIngest(-9, PALStatus(.uninitialized))
                    return
                }
                verdict.bytesReceived += got
                let remaining = blocks - index - 1
                if remaining > 0 {
                    if remaining & 0x1F == 0 {
                        log(.info, "Number of blocks remaining: \(remaining)")
                    }
                    let received = index + 1
                    if received == 1 || received % DeviceTwin.updateStatusFrequency == 0 {
                        publish(#"{"status":"IN_PROGRESS","statusDetails":{"receive":"\#(received)/\#(blocks)"}}"#)
                    }
                }
            }

            let digest = inputs.hash.digest(inputs.image[0..<fileSize])
            verdict.digest = digest.bytes
            log(.info, "Received final block of the update.")
            let closeResult = closeFile(job, digest: digest)
            verdict.palStatus = closeResult

            if closeResult.main == 0 {
                log(.info, "Received entire update and validated the signature.")
                verdict.ingestResult = -1
                verdict.outcome = .accepted
                if job.fileType == inputs.limits.firmwareFileTypeID {
                    publishSelfTest(.sigCheckPassed)
                } else {
                    publishSucceeded(.accepted, job.fileType, previous: job.updatedBy)
                }
                activeJobName = ""
                return
            }
            // The agent prints the whole status word with %06x.
            log(.error, "Failed to close the OTA file: Error=(\(closeResult.mainName):0x\(Hex.word(closeResult.rawValue, digits: 6)))")
            verdict.ingestResult = closeResult.main == UInt32(PALMain.signatureCheckFailed.rawValue) ? -2 : -3
            verdict.outcome = closeResult.main == UInt32(PALMain.fileClose.rawValue) ? .rejectedWrite : .rejectedSignature
            rejectIngest(verdict.ingestResult, closeResult)
        }

        // MARK: the PAL's close

        mutating func closeFile(_ job: ParsedJobDocument, digest: TypedDigest) -> PALStatus {
            let certFile = job.text(\.certFile)
            // The CC3220SF has no certificate lookup of its own: the network processor does it all.
            if inputs.profile == .cc3220SimpleLink { return closeSimpleLink(job, certFile: certFile, digest: digest) }
            var lookup: CertificateLookup = certFile.isEmpty && inputs.profile == .posixOpenSSL ? .notFound : inputs.certificates(certFile)
            if case .found(let bytes) = lookup, bytes.isEmpty { lookup = .unreadable }
            verdict.certificateLookup = lookup

            let certificateBytes: [UInt8]
            if case .found(let bytes) = lookup {
                if inputs.profile == .esp32MbedTLS { log(.info, "Using cert with label: \(certFile) OK") }
                certificateBytes = bytes
            } else if let fallback = inputs.fallbackCertificate, !fallback.isEmpty {
                if inputs.profile == .esp32MbedTLS {
                    log(.info, "No such certificate file: \(certFile). Using certificate in ota_demo_config.h.")
                }
                certificateBytes = fallback
                verdict.usedFallbackCertificate = true
            } else {
                if inputs.profile == .esp32MbedTLS { log(.error, "Cert read failed") }
                return PALStatus(.badSignerCert)
            }

            let signature = job.signature
            if inputs.profile == .posixOpenSSL {
                // PEM_read_bio_X509 / X509_get_pubkey failing is BadSignerCert on this PAL.
                switch SignatureChecker.decodeCertificate(certificateBytes, profile: .posixOpenSSL) {
                case .failure(let failure):
                    verdict.signatureFailure = failure
                    return PALStatus(.badSignerCert)
                case .success(let key):
                    verdict.signerKey = key.description
                    if let failure = SignatureChecker.verify(signature: signature, digest: digest, key: key, profile: .posixOpenSSL) {
                        verdict.signatureFailure = failure
                        return PALStatus(.signatureCheckFailed)
                    }
                    return .success
                }
            }
            // The mbedTLS PALs: iot_crypto refuses an empty signature before it parses the certificate.
            if signature.isEmpty { return signatureFailed(.emptySignature) }
            switch SignatureChecker.decodeCertificate(certificateBytes, profile: inputs.profile) {
            case .failure(let failure): return signatureFailed(failure)
            case .success(let key):
                verdict.signerKey = key.description
                if let failure = SignatureChecker.verify(signature: signature, digest: digest, key: key, profile: inputs.profile) {
                    return signatureFailed(failure)
                }
                let policy = enforceDevicePolicy(certificate: certificateBytes, signature: signature)
                guard policy == .success else { return policy }
                return appendCloseTrailer()
            }
        }

        /// The ESP32 PAL writes its signature block after the image once the signature verified; past the partition
        /// that write fails and the close is FileClose, with no log line of its own.
        func appendCloseTrailer() -> PALStatus {
            guard let partitionSize = inputs.partitionSize, inputs.profile.closeTrailerSize > 0,
                  verdict.bytesReceived + inputs.profile.closeTrailerSize > partitionSize
            else { return .success }
            return PALStatus(.fileClose)
        }

        /// The opt-in device policy after the signature verified (hil_ota.c closeFile → HIL_PolicyCheck).
        mutating func enforceDevicePolicy(certificate: [UInt8], signature: [UInt8]) -> PALStatus {
            guard inputs.profile == .esp32MbedTLS, let config = inputs.devicePolicy, !config.checks.isEmpty else { return .success }
            let outcome = DevicePolicy.evaluate(config, certificate: certificate, signature: signature, lookup: inputs.certificates)
            for line in outcome.log { log(line.level, line.text) }
            guard let refusal = outcome.refusal else { return .success }
            verdict.devicePolicyRefusal = refusal
            return refusal.palStatus
        }

        /// sl_FsClose: the network processor authenticates the file; no fallback certificate, no BadSignerCert.
        mutating func closeSimpleLink(_ job: ParsedJobDocument, certFile: String, digest: TypedDigest) -> PALStatus {
            log(.info, "Authenticating and closing file.")
            guard case .sha1(let sha1) = digest else { return PALStatus(.signatureCheckFailed) }
            let files = inputs.simpleLinkFiles
            let evidence = SimpleLinkClose.close(certFile: certFile, signature: job.signature, digest: sha1, catalog: inputs.rootCatalog,
                                                 securityAlerts: inputs.securityAlerts, threshold: inputs.securityAlertThreshold, files: files)
            if let found = evidence.certificateFileFound {
                verdict.certificateLookup = found ? SimpleLinkClose.file(certFile, in: files).map { .found($0) } ?? .notFound : .notFound
            }
            verdict.simpleLink = evidence
            verdict.signerKey = evidence.signerKey
            return evidence.error?.palStatus ?? .success
        }

        mutating func signatureFailed(_ failure: SignatureFailure) -> PALStatus {
            verdict.signatureFailure = failure
            log(.error, "Signature verification failed")
            return PALStatus(.signatureCheckFailed)
        }
    }
}
