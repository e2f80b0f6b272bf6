import DeviceFirmware
import OTAVerifier

/// The C device verifier (Firmware/) called on the same bytes as the twin, its answers in the twin's types.
enum Device {
    /// `bytes` in a C buffer of its own (never NULL, even when empty: NULL is a different case for the C).
    static func withBuffer<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
        defer { buffer.deallocate() }
        for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        return body(buffer, bytes.count)
    }

    static func validate(_ document: [UInt8]) -> CoreJSON.Status {
        withBuffer(document) { pointer, count in
            coreStatus(HIL_JsonValidate(pointer, count))
        }
    }

    static func search(_ document: [UInt8], within window: Range<Int>? = nil, query: [UInt8])
        -> (status: CoreJSON.Status, value: Range<Int>, type: CoreJSON.ValueType)
    {
        let window = window ?? document.indices
        return withBuffer(document) { pointer, _ in
            withBuffer(query) { queryPointer, queryCount in
                var value: UnsafePointer<CChar>? = nil
                var valueLength = 0
                var type = HilJsonInvalid
                let status = HIL_JsonSearch(
                    pointer + window.lowerBound, window.count, queryPointer, queryCount, &value, &valueLength, &type)
                guard status == HilJsonSuccess, let value else {
                    return (coreStatus(status), window.lowerBound..<window.lowerBound, .invalid)
                }
                let start = value - pointer
                return (.success, start..<(start + valueLength), CoreJSON.ValueType(rawValue: Int(type.rawValue))!)
            }
        }
    }

    /// The status and, whatever it is, the bytes the decoder wrote into a buffer of `capacity` bytes.
    static func base64(_ input: [UInt8], capacity: Int) -> (status: FreeRTOSBase64.Status, written: [UInt8], length: Int?) {
        let sentinel: UInt8 = 0xA5
        var destination = [UInt8](repeating: sentinel, count: max(1, capacity))
        var length = Int.max
        let status = withBuffer(input) { pointer, count in
            pointer.withMemoryRebound(to: UInt8.self, capacity: max(1, count)) { source in
                HIL_Base64Decode(&destination, capacity, &length, source, count)
            }
        }
        let swiftStatus = FreeRTOSBase64.Status(rawValue: Int(status.rawValue))!
        return (swiftStatus, Array(destination.prefix(capacity)), status == HilBase64Success ? length : nil)
    }

    static func parseUInt32(_ text: [UInt8]) -> UInt32? {
        withBuffer(text) { pointer, count in
            var value: UInt32 = 0xDEAD_BEEF
            return HIL_ParseUInt32(pointer, count, &value) == 0 ? value : nil
        }
    }

    private static func coreStatus(_ status: HilJsonStatus_t) -> CoreJSON.Status {
        CoreJSON.Status(rawValue: Int(HIL_JsonCoreStatus(status)))!
    }
}

/// A device that parses job documents one after another with `HIL_ParseJobDocumentLogged`, keeping its job
/// document (and so its signature buffer) between them, and collecting its log lines.
struct DeviceJobParser {
    private var job = HilJobDocument_t()
    let signatureKey: [UInt8]

    init(signatureKey: String = "sig-sha256-ecdsa") {
        self.signatureKey = Array(signatureKey.utf8)
    }

    /// The C's answer to `document`, with its log lines.
    mutating func parse(_ document: [UInt8]) -> (doc: ParsedJobDocument, returned: JobParseError) {
        let collector = LogCollector()
        var logger = HilLogger_t()
        logger.log = { context, level, line in
            guard let context, let line else { return }
            let collector = Unmanaged<LogCollector>.fromOpaque(context).takeUnretainedValue()
            collector.append(level: level, line: line)
        }
        let returned = withExtendedLifetime(collector) { () -> HilJobParseErr_t in
            logger.pContext = Unmanaged.passUnretained(collector).toOpaque()
            return Device.withBuffer(document) { pointer, count in
                Device.withBuffer(signatureKey + [0]) { key, _ in
                    HIL_ParseJobDocumentLogged(pointer, count, key, &job, &logger)
                }
            }
        }
        var doc = Self.convert(job)
        doc.log = collector.lines
        return (doc, JobParseError(rawValue: Int(returned.rawValue))!)
    }

    func checkProtocols() -> OtaError {
        withUnsafePointer(to: job) { OtaError(rawValue: Int(HIL_CheckProtocols($0).rawValue))! }
    }

    func checkSelfTestVersion(runningVersion: UInt32) -> OtaError {
        withUnsafePointer(to: job) { OtaError(rawValue: Int(HIL_CheckSelfTestVersion($0, runningVersion).rawValue))! }
    }

    /// `HilJobDocument_t` as the twin's value: C strings up to their NUL, the signature's `size` bytes.
    private static func convert(_ job: HilJobDocument_t) -> ParsedJobDocument {
        var doc = ParsedJobDocument()
        doc.received = job.received
        doc.jobId = cString(job.jobId)
        doc.protocols = cString(job.protocols)
        doc.streamName = cString(job.streamName)
        doc.filePath = cString(job.filePath)
        doc.certFile = cString(job.certFile)
        doc.updateDataUrl = cString(job.updateDataUrl)
        doc.authScheme = cString(job.authScheme)
        doc.fileSize = job.fileSize
        doc.fileId = job.fileId
        doc.fileAttributes = job.fileAttributes
        doc.fileType = job.fileType
        doc.updatedBy = job.updatedBy
        doc.inSelfTest = job.inSelfTest
        doc.base64Status = FreeRTOSBase64.Status(rawValue: Int(job.base64Status.rawValue))!
        doc.signature = withUnsafeBytes(of: job.signature) { Array($0.prefix(Int(job.signatureSize))) }
        doc.docError = DocParseError(rawValue: Int(job.docErr.rawValue))!
        doc.jobError = JobParseError(rawValue: Int(job.jobErr.rawValue))!
        doc.otaError = OtaError(rawValue: Int(job.otaErr.rawValue))!
        doc.jsonValid = job.jsonValid != 0
        return doc
    }

    private static func cString<T>(_ tuple: T) -> [UInt8] {
        withUnsafeBytes(of: tuple) { Array($0.prefix { $0 != 0 }) }
    }
}

/// Receives the C logger's lines (its context pointer).
final class LogCollector {
    private(set) var lines: [LogLine] = []

    func append(level: HilLogLevel_t, line: UnsafePointer<CChar>) {
        let bytes = UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self)
        let text = Array(UnsafeBufferPointer(start: bytes, count: strlenOf(bytes)))
        lines.append(LogLine(level: Self.level(level), bytes: text))
    }

    private func strlenOf(_ bytes: UnsafePointer<UInt8>) -> Int {
        var count = 0
        while bytes[count] != 0 { count += 1 }
        return count
    }

    private static func level(_ level: HilLogLevel_t) -> LogLine.Level {
        switch level {
        case HilLogError: .error
        case HilLogWarn: .warn
        case HilLogInfo: .info
        default: .debug
        }
    }
}
