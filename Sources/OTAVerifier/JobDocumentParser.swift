/// The FreeRTOS v3 OTA agent's job-document parse (`ota.c`: the model, `parseJSONbyModel`, the checks of
/// `validateAndStartJob`, `handleCustomJob`), with the lines it logs; twin of `Firmware/source/hil_jobdoc.c`.
public struct JobDocumentParser: Sendable {
    public let limits: JobDocumentLimits
    /// `OTA_JsonFileSignatureKey` of the device's PAL.
    public let signatureKey: String

    public init(limits: JobDocumentLimits = .freeRTOSDefaults, signatureKey: String = "sig-sha256-ecdsa") {
        self.limits = limits
        self.signatureKey = signatureKey
    }

    /// Parses `document` as the agent does. `previousSignature` is the agent's static signature buffer as the
    /// previous parse left it (`ParsedJobDocument.signature`): a document without the signature key keeps it, and
    /// a signature that fails to decode overwrites its start without changing its size.
    public func parse(_ document: [UInt8], previousSignature: [UInt8] = []) -> ParsedJobDocument {
        var run = ParseRun(
            document: document, limits: limits, signatureKey: ParseRun.cString(Array(signatureKey.utf8)),
            signature: previousSignature)
        run.parseByModel()
        run.checkJob()
        return run.result
    }

    /// The data protocol check (`ota_interface.c` `setDataInterface`): the protocols text must contain `"MQTT"`
    /// or `"HTTP"`, quotes included.
    public static func checkProtocols(_ doc: ParsedJobDocument) -> OtaError {
        let mqtt = Array("\"MQTT\"".utf8)
        let http = Array("\"HTTP\"".utf8)
        return contains(doc.protocols, mqtt) || contains(doc.protocols, http) ? .none : .invalidDataProtocol
    }

    /// Anti-rollback in self test (`ota.c` `validateUpdateVersion`): `updatedBy` against the running version
    /// (major << 24 | minor << 16 | build), only for file id 0 of the firmware file type, and not at all when the
    /// build allows downgrades. The updater's version being the higher one is what the agent calls a downgrade.
    public static func checkSelfTestVersion(
        _ doc: ParsedJobDocument, runningVersion: UInt32, allowDowngrade: Bool = false, firmwareFileType: UInt32 = 0
    ) -> OtaError {
        if allowDowngrade || doc.fileId != 0 || doc.fileType != firmwareFileType {
            return .none
        }
        if doc.updatedBy == runningVersion {
            return .sameFirmwareVersion
        }
        return doc.updatedBy > runningVersion ? .downgradeNotAllowed : .none
    }

    /// `strstr` on bytes.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}

// MARK: - One parse

/// The state of one parse: the document, the result being filled in, and the files array's text once seen.
private struct ParseRun {
    let document: [UInt8]
    let limits: JobDocumentLimits
    let signatureKey: [UInt8]
    var result = ParsedJobDocument()
    /// The files array's text without its first and last byte, where later keys are searched again.
    var files: Range<Int>?

    init(document: [UInt8], limits: JobDocumentLimits, signatureKey: [UInt8], signature: [UInt8]) {
        self.document = document
        self.limits = limits
        self.signatureKey = signatureKey
        result.signature = signature
    }

    /// What the model does with an entry once it is found.
    private enum Kind {
        /// Found is enough (StringInDoc, Object, and the unstored UInt32 timestamp).
        case found
        /// The files array: later keys are searched inside it.
        case nested
        /// StringCopy / ArrayCopy into the application's buffer.
        case string(WritableKeyPath<ParsedJobDocument, [UInt8]>, capacity: Int)
        case number(WritableKeyPath<ParsedJobDocument, UInt32>)
        /// Ident: present means true.
        case selfTest
        /// SigBase64 into the static signature buffer.
        case signature
    }

    private func kind(of parameter: JobParameter) -> Kind {
        switch parameter {
        case .clientToken, .timestamp, .execution, .statusDetails, .jobDocument, .afrOta: .found
        case .files: .nested
        case .jobId: .string(\.jobId, capacity: limits.maxJobIdLength + 1)
        case .streamName: .string(\.streamName, capacity: limits.streamNameBufferSize)
        case .protocols: .string(\.protocols, capacity: limits.protocolsBufferSize)
        case .filePath: .string(\.filePath, capacity: limits.filePathBufferSize)
        case .certFile: .string(\.certFile, capacity: limits.certFileBufferSize)
        case .updateDataUrl: .string(\.updateDataUrl, capacity: limits.urlBufferSize)
        case .authScheme: .string(\.authScheme, capacity: limits.authSchemeBufferSize)
        case .updatedBy: .number(\.updatedBy)
        case .fileSize: .number(\.fileSize)
        case .fileId: .number(\.fileId)
        case .attr: .number(\.fileAttributes)
        case .fileType: .number(\.fileType)
        case .selfTest: .selfTest
        case .signature: .signature
        }
    }

    private func key(of parameter: JobParameter) -> [UInt8] {
        parameter.modelKey.map { Array($0.utf8) } ?? signatureKey
    }

    // MARK: parseJSONbyModel

    /// Validates, then searches every model key in order. The validation error is kept only until the first
    /// stored value (or the files array) overwrites it, so a document that fails validation is still parsed
    /// wherever the search can reach its keys.
    mutating func parseByModel() {
        let validation = CoreJSON.validate(document, maxDepth: limits.jsonMaxDepth)
        result.jsonValid = validation == .success
        var error: DocParseError = result.jsonValid ? .none : .invalidJSONBuffer
        if !result.jsonValid {
            log(.error, "Invalid JSON document: JSON_Validate returned error: JSONStatus_t=\(validation.coreValue)")
        }

        for parameter in JobParameter.allCases {
            let key = key(of: parameter)
            guard let value = find(key) else { continue }
            result.received |= parameter.bit
            switch kind(of: parameter) {
            case .found:
                continue  // the agent skips the error check too
            case .nested:
                files = innerText(of: value)
            case .string(let field, let capacity):
                error = copyString(key: key, into: field, capacity: capacity, value: value)
            case .number(let field):
                error = parseNumber(key: key, into: field, value: value)
            case .selfTest:
                result.inSelfTest = true
                error = .none
            case .signature:
                error = decodeSignature(key: key, value: value)
            }
            if error != .none { break }
        }

        if error == .none {
            error = checkReceived()
        }
        result.docError = error
        if error != .none {
            log(.warn, "Failed to parse JSON document as AFR_OTA job: DocParseErr_t=\(error.rawValue)")
        }
    }

    /// The key in the whole document, then, once the files array has been seen, inside its text.
    private func find(_ key: [UInt8]) -> Range<Int>? {
        let whole = CoreJSON.search(document, query: key, maxDepth: limits.jsonMaxDepth)
        if whole.status == .success { return whole.value }
        guard let files else { return nil }
        let inFiles = CoreJSON.search(document, within: files, query: key, maxDepth: limits.jsonMaxDepth)
        return inFiles.status == .success ? inFiles.value : nil
    }

    /// The value without its first and last byte, whatever its type (for a string value, its content's). The
    /// agent does not check the length; a value under two bytes would make it read outside the document, so it
    /// counts as empty.
    private func innerText(of value: Range<Int>) -> Range<Int> {
        value.count >= 2 ? (value.lowerBound + 1)..<(value.upperBound - 1) : value.lowerBound..<value.lowerBound
    }

    /// Required keys missing: MalformedDoc; only clientToken and timestamp: EmptyJobDoc.
    private func checkReceived() -> DocParseError {
        let required = JobParameter.allCases.filter(\.isRequired).reduce(UInt32(0)) { $0 | $1.bit }
        let emptyJobDocument = JobParameter.clientToken.bit | JobParameter.timestamp.bit
        if result.received == emptyJobDocument { return .emptyJobDoc }
        return result.received & required == required ? .none : .malformedDoc
    }

    // MARK: Storing values

    /// StringCopy: the value and its NUL must fit the buffer.
    private mutating func copyString(
        key: [UInt8], into field: WritableKeyPath<ParsedJobDocument, [UInt8]>, capacity: Int, value: Range<Int>
    ) -> DocParseError {
        guard capacity >= value.count + 1 else {
            log(.error, "Insufficient user memory: [key: valueLength]=[", .bytes(key), ": \(value.count)]")
            return .userBufferInsufficient
        }
        let copied = Self.cString(document[value])
        result[keyPath: field] = copied
        log(.info, "Extracted parameter: [key: value]=[", .bytes(key), ": ", .bytes(copied), "]")
        return .none
    }

    /// UInt32: strtoul base 0 on the raw value text; the field is written only on success.
    private mutating func parseNumber(
        key: [UInt8], into field: WritableKeyPath<ParsedJobDocument, UInt32>, value: Range<Int>
    ) -> DocParseError {
        guard let number = DeviceNumber.parseUInt32(document[value], unsignedLongBits: limits.unsignedLongBits) else {
            return .invalidNumChar
        }
        result[keyPath: field] = number
        log(.info, "Extracted parameter: [key: value]=[", .bytes(key), ": \(number)]")
        return .none
    }

    /// SigBase64: decoded straight into the static signature buffer, so a failed decode leaves the bytes of the
    /// quanta it had written over the start of the previous signature, whose size stays.
    private mutating func decodeSignature(key: [UInt8], value: Range<Int>) -> DocParseError {
        let decoded = FreeRTOSBase64.decodeWritingAsItGoes(document[value], capacity: limits.maxSignatureSize)
        guard decoded.status == .success else {
            log(.error, "Failed to decode Base64 data: base64Decode returned error: error=\(decoded.status.rawValue)")
            result.base64Status = decoded.status
            for (index, byte) in decoded.written.prefix(result.signature.count).enumerated() {
                result.signature[index] = byte
            }
            return .base64Decode
        }
        log(.info, "Extracted parameter [ ", .bytes(key), ": ", .bytes(signaturePreview(from: value.lowerBound)), "... ]")
        result.signature = decoded.written
        return .none
    }

    /// The agent's signature log line strncpy's 32 bytes from the value's start: past the value into the rest of
    /// the document, up to a NUL (here also up to the document's end).
    private func signaturePreview(from start: Int) -> [UInt8] {
        Self.cString(document[start..<min(document.count, start + 32)])
    }

    // MARK: validateAndStartJob / handleCustomJob

    /// The job checks after a successful model parse; after a failed one, the custom-job fallback.
    mutating func checkJob() {
        guard result.docError == .none else {
            handleCustomJob()
            return
        }
        if result.fileSize == 0 {
            result.jobError = .zeroFileSize
        } else if tooManyBlocks(result.fileSize) {
            result.jobError = .badModelInitParams
        } else {
            result.jobError = .none
            // getFileContextFromJob: OTA_MAX_FILE_SIZE is UINT32_MAX - block size + 1.
            let maxFileSize = UInt32.max &- UInt32(truncatingIfNeeded: limits.fileBlockSize) &+ 1
            if result.fileSize > maxFileSize { result.otaError = .fileSizeOverflow }
        }
    }

    /// Whether the file needs more blocks than the bitmap tracks. The block count is computed in the device's
    /// unsigned long, which wraps on a 32-bit MCU for sizes within a block of UINT32_MAX.
    private func tooManyBlocks(_ fileSize: UInt32) -> Bool {
        let bits = limits.unsignedLongBits
        let mask: UInt64 = bits >= 64 ? .max : (UInt64(1) << UInt64(bits)) - 1
        var blocks = (UInt64(fileSize) &+ UInt64(truncatingIfNeeded: limits.fileBlockSize &- 1)) & mask
        var size = UInt32(truncatingIfNeeded: limits.fileBlockSize)
        while size > 1 {  // divides by the block size, a power of two
            blocks >>= 1
            size >>= 1
        }
        return blocks > UInt64(limits.maxBlockBitmapSize) * 8
    }

    /// A document with a job document and a job id is a custom job, which this device does not parse
    /// (NonConformingJobDoc; a job id of 1 to 72 bytes is kept to report on); without them there is no active job.
    private mutating func handleCustomJob() {
        let jobDocument = CoreJSON.search(document, query: "execution.jobDocument", maxDepth: limits.jsonMaxDepth)
        let jobId = CoreJSON.search(document, query: "execution.jobId", maxDepth: limits.jsonMaxDepth)
        if jobDocument.status == .success, jobId.status == .success {
            result.jobError = .nonConformingJobDoc
            if jobId.value.count > 0, jobId.value.count <= limits.maxJobIdLength {
                result.jobId = Self.cString(document[jobId.value])
            }
        } else {
            result.jobError = .noActiveJobs
        }
        if result.docError == .emptyJobDoc {
            result.otaError = .emptyJobDocument
        }
    }

    // MARK: Logging

    /// One line from text and byte pieces, as `vsnprintf` into the device's log buffer would make it: byte pieces
    /// are `%s` arguments (already cut at their NUL), and the line is cut to the buffer less its NUL.
    private mutating func log(_ level: LogLine.Level, _ pieces: LogPiece...) {
        var line: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .text(let text): line += text.utf8
            case .bytes(let bytes): line += bytes
            }
        }
        result.log.append(LogLine(level: level, bytes: Array(line.prefix(max(0, limits.logLineSize - 1)))))
    }

    /// The bytes of a C string held in `bytes`: up to the first NUL.
    static func cString<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        Array(bytes.prefix { $0 != 0 })
    }
}

/// A piece of a log line: the format's text, or a `%s` argument's bytes.
private enum LogPiece: ExpressibleByStringInterpolation {
    case text(String)
    case bytes([UInt8])

    init(stringLiteral value: String) {
        self = .text(value)
    }

    init(stringInterpolation: DefaultStringInterpolation) {
        self = .text(String(stringInterpolation: stringInterpolation))
    }
}
