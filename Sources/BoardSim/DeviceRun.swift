import DeviceFirmware
import Foundation
import OTAVerifier

/// One run of the C device verifier (`DeviceFirmware`, Firmware/) through its POSIX port: the job document as a
/// device receives it, the staged image and the certificate directory in; the device's verdict out, in the same
/// `DeviceVerdict` value the host twin gives, so both are printed and compared the same way.
public struct DeviceRun: Sendable {
    public struct Inputs: Sendable {
        public var imagePath: String
        public var jobDocument: [UInt8]
        public var certificateDirectory: String
        public var fallbackCertificatePath: String?
        public var signatureKey: String
        public var runningVersion: UInt32
        public var platformPendingCommit: Bool
        /// The opt-in device policy (the port's `HIL_PosixPortSetPolicy`): enabled checks, the device's trusted time,
        /// the revocation list and its signer's certificate (nil: read from the certificate directory under
        /// `RevocationList.signerCertificateLabel`). nil: the stock device.
        public var devicePolicy: DevicePolicyConfig?
        /// The partition the PAL writes the file into (`HilPal_t.partitionSize`), 0: unlimited; and the bytes its
        /// close appends after the image (`closeTrailerSize`: the ESP32 PAL's 80-byte signature block), 0: none.
        public var partitionSize: UInt32
        public var closeTrailerSize: UInt32
        /// Run the TI CC3220SF PAL instead of the mbedTLS one (`HIL_Cc3220PortBind`): the certificate directory is the
        /// network processor's file system, the close is `sl_FsClose` (the C model, `SimpleLinkNWP`). nil: the
        /// mbedTLS PAL.
        public var cc3220: CC3220? = nil

        /// The CC3220SF port's own inputs.
        public struct CC3220: Sendable {
            /// The trusted-root catalog: PEM or DER roots and revoked.txt (`SimpleLinkNWP.Catalog.load`).
            public var rootCatalogDirectory: String
            /// The device's tamper state before the run.
            public var state: SimpleLinkNWP.State

            public init(rootCatalogDirectory: String, state: SimpleLinkNWP.State = SimpleLinkNWP.State()) {
                self.rootCatalogDirectory = rootCatalogDirectory
                self.state = state
            }
        }

        public init(imagePath: String, jobDocument: [UInt8], certificateDirectory: String, fallbackCertificatePath: String? = nil,
                    signatureKey: String = "sig-sha256-ecdsa", runningVersion: UInt32 = 0x0100_0000, platformPendingCommit: Bool = false,
                    devicePolicy: DevicePolicyConfig? = nil, partitionSize: UInt32 = 0, closeTrailerSize: UInt32 = 0,
                    cc3220: CC3220? = nil) {
            self.imagePath = imagePath
            self.jobDocument = jobDocument
            self.certificateDirectory = certificateDirectory
            self.fallbackCertificatePath = fallbackCertificatePath
            self.signatureKey = signatureKey
            self.runningVersion = runningVersion
            self.platformPendingCommit = platformPendingCommit
            self.devicePolicy = devicePolicy
            self.partitionSize = partitionSize
            self.closeTrailerSize = closeTrailerSize
            self.cc3220 = cc3220
        }
    }

    public var verdict = DeviceVerdict()
    /// The port could not read the image while receiving it (a host problem, not a device verdict).
    public var inputError = false
    /// mbedTLS's error code when the verification failed, and its text.
    public var mbedtlsError: Int32 = 0
    public var mbedtlsErrorText: String?
    /// The CC3220SF port: what the network processor's close found (nil when it did not run, e.g. the file was
    /// refused at create), and the device's tamper state after the run.
    public var simpleLink: SimpleLinkNWP.Evidence?
    public var simpleLinkState: SimpleLinkNWP.State?

    /// Why the port could not open its files (a bad-input error, not a device verdict).
    public struct PortError: Error, Sendable { public var message: String }

    /// Collects what the C core reports through the port's callbacks.
    private final class Collector {
        var events: [DeviceEvent] = []
    }

    public static func run(_ inputs: Inputs) throws(PortError) -> DeviceRun {
        let collector = Collector()
        // The CC3220SF port holds the POSIX port as its first member, so one allocation serves both.
        let cc3220Port = UnsafeMutablePointer<HilCc3220Port_t>.allocate(capacity: 1)
        let port = UnsafeMutableRawPointer(cc3220Port).assumingMemoryBound(to: HilPosixPort_t.self)
        let context = UnsafeMutablePointer<HilOtaContext_t>.allocate(capacity: 1)
        let pal = UnsafeMutablePointer<HilPal_t>.allocate(capacity: 1)
        defer {
            if inputs.cc3220 != nil { HIL_Cc3220PortClose(cc3220Port) } else { HIL_PosixPortClose(port) }
            cc3220Port.deallocate()
            context.deallocate()
            pal.deallocate()
        }
        memset(cc3220Port, 0, MemoryLayout<HilCc3220Port_t>.size)
        memset(context, 0, MemoryLayout<HilOtaContext_t>.size)

        let opened: Int32
        if let cc3220 = inputs.cc3220 {
            opened = HIL_Cc3220PortOpen(cc3220Port, inputs.imagePath, inputs.certificateDirectory, cc3220.rootCatalogDirectory)
            cc3220Port.pointee.nwp = HilSlNwp_t(securityAlerts: cc3220.state.securityAlerts, alertThreshold: cc3220.state.alertThreshold)
        } else {
            opened = HIL_PosixPortOpen(port, inputs.imagePath, inputs.certificateDirectory, inputs.fallbackCertificatePath)
        }
        guard opened == 0 else {
            throw PortError(message: withUnsafeBytes(of: &port.pointee.error) { cString($0) })
        }
        port.pointee.runningVersion = inputs.runningVersion
        port.pointee.partitionSize = inputs.partitionSize
        port.pointee.closeTrailerSize = inputs.closeTrailerSize
        port.pointee.platformState = inputs.platformPendingCommit ? HilPalImageStatePendingCommit : HilPalImageStateValid
        port.pointee.pCallbackContext = Unmanaged.passUnretained(collector).toOpaque()
        port.pointee.log = { context, level, line in
            guard let context, let line else { return }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            let name = String(cString: HIL_LogLevelName(level))
            collector.events.append(.log(LogLine(level: LogLine.Level(rawValue: name) ?? .debug, text: String(cString: line))))
        }
        port.pointee.publishStatus = { context, jobId, payload in
            guard let context, let jobId, let payload else { return }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            collector.events.append(.status(JobStatusMessage(jobId: String(cString: jobId), payload: String(cString: payload))))
        }
        // The revocation list stays in our memory through the run; the port copies the signer's certificate.
        let list = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, inputs.devicePolicy?.revocationList?.count ?? 0))
        defer { list.deallocate() }
        if let policy = inputs.devicePolicy {
            if let time = policy.deviceTime {
                port.pointee.hasTime = true
                port.pointee.unixTime = Int64(time.timeIntervalSince1970.rounded(.down))
            }
            let listBytes = policy.revocationList ?? []
            _ = list.initialize(from: listBytes)
            let status = policy.listSignerCertificate.map { certificate in
                certificate.withUnsafeBufferPointer {
                    HIL_PosixPortSetPolicy(port, DevicePolicyCheck.mask(policy.checks), policy.revocationList == nil ? nil : list.baseAddress,
                                           listBytes.count, $0.baseAddress ?? UnsafePointer(list.baseAddress), $0.count)
                }
            } ?? HIL_PosixPortSetPolicy(port, DevicePolicyCheck.mask(policy.checks), policy.revocationList == nil ? nil : list.baseAddress,
                                        listBytes.count, nil, 0)
            guard status == 0 else {
                throw PortError(message: withUnsafeBytes(of: &port.pointee.error) { cString($0) })
            }
        }
        if inputs.cc3220 != nil {
            HIL_Cc3220PortBind(cc3220Port, pal)
        } else {
            HIL_PosixPortBind(port, pal)
        }
        HIL_OtaInit(context)

        var result = HilOtaResult_t()
        let outcome = inputs.jobDocument.withUnsafeBufferPointer { document in
            document.withMemoryRebound(to: CChar.self) { json in
                HIL_OtaProcessJob(context, pal, json.baseAddress, json.count, inputs.signatureKey, &result)
            }
        }
        withExtendedLifetime(collector) {}

        var run = DeviceRun()
        run.inputError = outcome == HilOtaInputError
        run.mbedtlsError = result.mbedtlsError
        if result.mbedtlsError != 0 {
            var buffer = [CChar](repeating: 0, count: 160)
            HIL_CryptoErrorText(result.mbedtlsError, &buffer, buffer.count)
            run.mbedtlsErrorText = buffer.withUnsafeBytes { cString($0) }
        }
        if inputs.cc3220 != nil {
            let nwp = cc3220Port.pointee.nwp
            run.simpleLinkState = SimpleLinkNWP.State(securityAlerts: nwp.securityAlerts, alertThreshold: nwp.alertThreshold)
            if cc3220Port.pointee.closed { run.simpleLink = SimpleLinkNWP.evidence(cc3220Port.pointee.evidence) }
        }
        run.verdict = verdict(outcome: outcome, result: result, job: context.pointee.job, events: collector.events, simpleLink: run.simpleLink,
                              cc3220: inputs.cc3220 != nil)
        return run
    }

    /// The C core's result in the twin's terms.
    private static func verdict(outcome: HilOtaOutcome_t, result: HilOtaResult_t, job: HilJobDocument_t, events: [DeviceEvent],
                                simpleLink: SimpleLinkNWP.Evidence?, cc3220: Bool) -> DeviceVerdict {
        var job = job
        var parsed = ParsedJobDocument()
        parsed.jobId = withUnsafeBytes(of: &job.jobId) { Array($0.prefix { $0 != 0 }) }
        parsed.certFile = withUnsafeBytes(of: &job.certFile) { Array($0.prefix { $0 != 0 }) }
        parsed.fileSize = job.fileSize
        parsed.signature = withUnsafeBytes(of: &job.signature) { Array($0.prefix(Int(job.signatureSize))) }
        parsed.jobError = JobParseError(rawValue: Int(result.jobErr.rawValue)) ?? .unknown
        parsed.docError = DocParseError(rawValue: Int(result.docErr.rawValue)) ?? .none

        var verdict = DeviceVerdict()
        verdict.outcome = DeviceOutcome(rawValue: String(cString: HIL_OtaOutcomeName(outcome))) ?? .rejectedJobDocument
        verdict.job = parsed
        verdict.events = events
        verdict.palStatus = PALStatus(rawValue: result.palStatus)
        verdict.ingestResult = Int(result.ingestResult)
        verdict.otaError = OtaError(rawValue: Int(result.otaErr.rawValue)) ?? .none
        verdict.imageState = ImageState(rawValue: Int(result.imageState.rawValue)) ?? .unknown
        verdict.reset = result.reset
        verdict.hash = result.hash == HilHashSha1 ? .sha1 : .sha256
        verdict.bytesReceived = Int(result.bytesReceived)
        verdict.blockIndex = Int(result.blockIndex)
        verdict.blockSize = Int(result.blockSize)
        // The digest, the certificate and the signature check exist once the file was received and closed.
        let closed = verdict.outcome == .accepted || verdict.outcome == .rejectedSignature
            || (verdict.outcome == .rejectedWrite && verdict.palStatus.main == UInt32(PALMain.fileClose.rawValue))
        guard closed else { return verdict }
        verdict.digest = withUnsafeBytes(of: result.digest) { Array($0.prefix(verdict.hash == .sha1 ? 20 : 32)) }
        if cc3220 {
            // The network processor looked the certificate up (or refused the close before it did); its findings are
            // in DeviceRun.simpleLink, not in the mbedTLS PAL's fields.
            switch simpleLink?.certificateFileFound {
            case true?: verdict.certificateLookup = .found([])
            case false?: verdict.certificateLookup = simpleLink?.code == -10372 ? .notFound : .unreadable
            case nil: verdict.certificateLookup = nil
            }
            return verdict
        }
        switch result.certLookup {
        case HilCertFound: verdict.certificateLookup = .found([]) // the bytes stay in the C core
        case HilCertNotFound: verdict.certificateLookup = .notFound
        default: verdict.certificateLookup = .unreadable
        }
        verdict.usedFallbackCertificate = result.usedFallbackCertificate
        if verdict.palStatus.main == UInt32(PALMain.signatureCheckFailed.rawValue), verdict.palStatus.sub != 0 {
            // The device policy refused a signature that verified.
            verdict.devicePolicyRefusal = DevicePolicyRefusal(rawValue: verdict.palStatus.sub)
        } else if verdict.palStatus.main == UInt32(PALMain.signatureCheckFailed.rawValue) {
            switch result.cryptoResult {
            case HilCryptoBadInput: verdict.signatureFailure = .emptySignature
            case HilCryptoBadCertificate: verdict.signatureFailure = .certificateUnparsable("mbedtls_x509_crt_parse refuses it")
            default: verdict.signatureFailure = .signatureMismatch
            }
        }
        return verdict
    }
}

/// The NUL-terminated string at the start of a C char array.
private func cString(_ bytes: UnsafeRawBufferPointer) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
}
