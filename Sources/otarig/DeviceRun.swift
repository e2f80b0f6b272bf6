import DeviceFirmware
import Foundation

/// One run of the C device verifier (`DeviceFirmware`, Firmware/) through its POSIX port: the job document as a
/// device receives it, the staged image and the certificate directory in, the device's log lines, job-status
/// messages and verdict out.
struct DeviceRun {
    struct Inputs {
        var imagePath: String
        var jobDocument: [UInt8]
        var certificateDirectory: String
        var fallbackCertificatePath: String?
        var signatureKey: String
        var runningVersion: UInt32
        var platformPendingCommit: Bool
    }

    struct LogLine: Equatable {
        var level: String
        var text: String
    }

    struct Status: Equatable {
        var jobId: String
        var payload: String
    }

    /// What the device printed and published, in order.
    enum Event: Equatable {
        case log(LogLine)
        case status(Status)
    }

    var events: [Event] = []
    var log: [LogLine] { events.compactMap { if case .log(let line) = $0 { line } else { nil } } }
    var statuses: [Status] { events.compactMap { if case .status(let status) = $0 { status } else { nil } } }
    var outcome: HilOtaOutcome_t = HilOtaInputError
    var result = HilOtaResult_t()
    var certFile = ""
    var jobId = ""
    var fileSize: UInt32 = 0
    var lastImageState: HilImageState_t = HilImageStateUnknown
    var resetCount: UInt32 = 0

    /// Why the port could not open its files (a bad-input error, not a device verdict).
    struct PortError: Error { var message: String }

    /// Collects what the C core reports through the port's callbacks.
    private final class Collector {
        var events: [Event] = []
    }

    static func run(_ inputs: Inputs) throws(PortError) -> DeviceRun {
        let collector = Collector()
        let port = UnsafeMutablePointer<HilPosixPort_t>.allocate(capacity: 1)
        let context = UnsafeMutablePointer<HilOtaContext_t>.allocate(capacity: 1)
        let pal = UnsafeMutablePointer<HilPal_t>.allocate(capacity: 1)
        defer {
            HIL_PosixPortClose(port)
            port.deallocate()
            context.deallocate()
            pal.deallocate()
        }
        memset(port, 0, MemoryLayout<HilPosixPort_t>.size)
        memset(context, 0, MemoryLayout<HilOtaContext_t>.size)

        let opened = HIL_PosixPortOpen(port, inputs.imagePath, inputs.certificateDirectory, inputs.fallbackCertificatePath)
        guard opened == 0 else {
            throw PortError(message: withUnsafeBytes(of: &port.pointee.error) { cString($0) })
        }
        port.pointee.runningVersion = inputs.runningVersion
        port.pointee.platformState = inputs.platformPendingCommit ? HilPalImageStatePendingCommit : HilPalImageStateValid
        port.pointee.pCallbackContext = Unmanaged.passUnretained(collector).toOpaque()
        port.pointee.log = { context, level, line in
            guard let context, let line else { return }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            collector.events.append(.log(LogLine(level: String(cString: HIL_LogLevelName(level)), text: String(cString: line))))
        }
        port.pointee.publishStatus = { context, jobId, payload in
            guard let context, let jobId, let payload else { return }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            collector.events.append(.status(Status(jobId: String(cString: jobId), payload: String(cString: payload))))
        }
        HIL_PosixPortBind(port, pal)
        HIL_OtaInit(context)

        var run = DeviceRun()
        run.outcome = inputs.jobDocument.withUnsafeBufferPointer { document in
            document.withMemoryRebound(to: CChar.self) { json in
                HIL_OtaProcessJob(context, pal, json.baseAddress, json.count, inputs.signatureKey, &run.result)
            }
        }
        withExtendedLifetime(collector) {}
        run.events = collector.events
        run.certFile = withUnsafeBytes(of: &context.pointee.job.certFile) { cString($0) }
        run.jobId = withUnsafeBytes(of: &context.pointee.job.jobId) { cString($0) }
        run.fileSize = context.pointee.job.fileSize
        run.lastImageState = port.pointee.lastState
        run.resetCount = UInt32(port.pointee.resetCount)
        return run
    }

    /// The device accepted the job: the image waits for activation, or its self test began.
    var accepted: Bool { outcome == HilOtaAccepted || outcome == HilOtaSelfTestStarted }

    var outcomeName: String { String(cString: HIL_OtaOutcomeName(outcome)) }
    var palMainName: String { String(cString: HIL_PalStatusName(result.palStatus >> 24)) }
    var jobParseErrorName: String { String(cString: HIL_JobParseErrName(result.jobErr)) }
    var otaErrorName: String { String(cString: HIL_OtaErrName(result.otaErr)) }
    var hashName: String { result.hash == HilHashSha1 ? "SHA-1" : "SHA-256" }

    var digestHex: String {
        let length = result.hash == HilHashSha1 ? 20 : 32
        return withUnsafeBytes(of: result.digest) { $0.prefix(length).map { String(format: "%02x", $0) }.joined() }
    }

    var mbedtlsErrorText: String? {
        guard result.mbedtlsError != 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: 160)
        HIL_CryptoErrorText(result.mbedtlsError, &buffer, buffer.count)
        return buffer.withUnsafeBytes { cString($0) }
    }

    static func imageStateName(_ state: HilImageState_t) -> String {
        switch state {
        case HilImageStateTesting: return "Testing"
        case HilImageStateAccepted: return "Accepted"
        case HilImageStateRejected: return "Rejected"
        case HilImageStateAborted: return "Aborted"
        default: return "Unknown"
        }
    }

    static func certLookupName(_ lookup: HilCertLookup_t) -> String {
        switch lookup {
        case HilCertFound: return "found"
        case HilCertNotFound: return "not-found"
        default: return "unreadable"
        }
    }
}

/// The NUL-terminated string at the start of a C char array.
private func cString(_ bytes: UnsafeRawBufferPointer) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
}
