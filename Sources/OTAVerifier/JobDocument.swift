/// The values a job-document parse produces, with the FreeRTOS v3 OTA agent's numbering and names
/// (`ota.h`, `ota_private.h`), twin of `Firmware/include/hil_jobdoc.h`.

/// The device build's buffer sizes and limits (the `hilconfig*` values of `hil_config_defaults.h`).
public struct JobDocumentLimits: Sendable, Equatable {
    /// Largest decoded signature: `kOTA_MaxSignatureSize` (RSA-3072).
    public var maxSignatureSize: Int
    /// Longest job id: `OTA_JOB_ID_MAX_SIZE` less its NUL.
    public var maxJobIdLength: Int
    /// The buffers the application hands the agent, each including its NUL.
    public var protocolsBufferSize: Int
    public var streamNameBufferSize: Int
    public var filePathBufferSize: Int
    public var certFileBufferSize: Int
    public var urlBufferSize: Int
    public var authSchemeBufferSize: Int
    /// `1 << otaconfigLOG2_FILE_BLOCK_SIZE`.
    public var fileBlockSize: Int
    /// `otaconfigMAX_BLOCK_BITMAP_SIZE`: the bitmap tracks eight blocks a byte.
    public var maxBlockBitmapSize: Int
    /// Width of the device's `unsigned long`, for strtoul's overflow and the block count's wrap.
    public var unsignedLongBits: Int
    /// `configOTA_FIRMWARE_UPDATE_FILE_TYPE_ID`.
    public var firmwareFileTypeID: UInt32
    /// coreJSON's `JSON_MAX_DEPTH`.
    public var jsonMaxDepth: Int
    /// The device's log buffer, including the NUL: longer lines are cut to one byte less.
    public var logLineSize: Int

    public init(
        maxSignatureSize: Int = 384, maxJobIdLength: Int = 72, protocolsBufferSize: Int = 20,
        streamNameBufferSize: Int = 128, filePathBufferSize: Int = 260, certFileBufferSize: Int = 260,
        urlBufferSize: Int = 1500, authSchemeBufferSize: Int = 128, fileBlockSize: Int = 4096,
        maxBlockBitmapSize: Int = 128, unsignedLongBits: Int = 32, firmwareFileTypeID: UInt32 = 0,
        jsonMaxDepth: Int = 32, logLineSize: Int = 512
    ) {
        self.maxSignatureSize = maxSignatureSize
        self.maxJobIdLength = maxJobIdLength
        self.protocolsBufferSize = protocolsBufferSize
        self.streamNameBufferSize = streamNameBufferSize
        self.filePathBufferSize = filePathBufferSize
        self.certFileBufferSize = certFileBufferSize
        self.urlBufferSize = urlBufferSize
        self.authSchemeBufferSize = authSchemeBufferSize
        self.fileBlockSize = fileBlockSize
        self.maxBlockBitmapSize = maxBlockBitmapSize
        self.unsignedLongBits = unsignedLongBits
        self.firmwareFileTypeID = firmwareFileTypeID
        self.jsonMaxDepth = jsonMaxDepth
        self.logLineSize = logLineSize
    }

    /// The AFR demo's buffers and the OTA library's defaults, as `hil_config_defaults.h` sets them.
    public static let freeRTOSDefaults = JobDocumentLimits()
}

/// `DocParseErr_t`: why `parseJSONbyModel` failed.
public enum DocParseError: Int, Sendable, CaseIterable {
    case none = 0
    case outOfMemory = 1
    case userBufferInsufficient = 2
    case fieldTypeMismatch = 3
    case base64Decode = 4
    case invalidNumChar = 5
    case duplicatesNotAllowed = 6
    case malformedDoc = 7
    case invalidJSONBuffer = 8
    case emptyJobDoc = 16

    public var freeRTOSName: String {
        switch self {
        case .none: "DocParseErrNone"
        case .outOfMemory: "DocParseErrOutOfMemory"
        case .userBufferInsufficient: "DocParseErrUserBufferInsufficient"
        case .fieldTypeMismatch: "DocParseErrFieldTypeMismatch"
        case .base64Decode: "DocParseErrBase64Decode"
        case .invalidNumChar: "DocParseErrInvalidNumChar"
        case .duplicatesNotAllowed: "DocParseErrDuplicatesNotAllowed"
        case .malformedDoc: "DocParseErrMalformedDoc"
        case .invalidJSONBuffer: "DocParseErrInvalidJSONBuffer"
        case .emptyJobDoc: "DocParseErrEmptyJobDoc"
        }
    }
}

/// `OtaJobParseErr_t`: the agent's verdict on the job.
public enum JobParseError: Int, Sendable, CaseIterable {
    case unknown = -1
    case none = 0
    case nullJob = 1
    case updateCurrentJob = 2
    case zeroFileSize = 3
    case nonConformingJobDoc = 4
    case badModelInitParams = 5
    case noContextAvailable = 6
    case noActiveJobs = 7

    /// As the agent logs it ("OtaJobParseErrNone").
    public var freeRTOSName: String {
        switch self {
        case .unknown: "OtaJobParseErrUnknown"
        case .none: "OtaJobParseErrNone"
        case .nullJob: "OtaJobParseErrNullJob"
        case .updateCurrentJob: "OtaJobParseErrUpdateCurrentJob"
        case .zeroFileSize: "OtaJobParseErrZeroFileSize"
        case .nonConformingJobDoc: "OtaJobParseErrNonConformingJobDoc"
        case .badModelInitParams: "OtaJobParseErrBadModelInitParams"
        case .noContextAvailable: "OtaJobParseErrNoContextAvailable"
        case .noActiveJobs: "OtaJobParseErrNoActiveJobs"
        }
    }
}

/// The `OtaErr_t` values a job-document parse and its checks can give.
public enum OtaError: Int, Sendable, CaseIterable {
    case none = 0
    case jobParserError = 12
    case invalidDataProtocol = 13
    case downgradeNotAllowed = 15
    case sameFirmwareVersion = 16
    case imageStateMismatch = 17
    case fileSizeOverflow = 23
    case emptyJobDocument = 24

    /// As `OTA_Err_strerror` prints it; it has no case for 23 and 24.
    public var freeRTOSName: String {
        switch self {
        case .none: "OtaErrNone"
        case .jobParserError: "OtaErrJobParserError"
        case .invalidDataProtocol: "OtaErrInvalidDataProtocol"
        case .downgradeNotAllowed: "OtaErrDowngradeNotAllowed"
        case .sameFirmwareVersion: "OtaErrSameFirmwareVersion"
        case .imageStateMismatch: "OtaErrImageStateMismatch"
        case .fileSizeOverflow, .emptyJobDocument: "InvalidErrorCode"
        }
    }
}

/// One line the agent logs, as the device prints it: its bytes are what `vsnprintf` produced.
public struct LogLine: Equatable, Sendable, CustomStringConvertible {
    /// The LogError / LogWarn / LogInfo / LogDebug levels, with the names FreeRTOS's logging prints.
    public enum Level: String, Sendable {
        case error = "ERROR"
        case warn = "WARN"
        case info = "INFO"
        case debug = "DEBUG"
    }

    public let level: Level
    /// The line's bytes (raw document bytes may be in it, so it need not be UTF-8).
    public let bytes: [UInt8]

    /// The line as text; bytes that are not UTF-8 become U+FFFD.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { "[\(level.rawValue)] \(text)" }

    public init(level: Level, bytes: [UInt8]) {
        self.level = level
        self.bytes = bytes
    }

    public init(level: Level, text: String) {
        self.init(level: level, bytes: Array(text.utf8))
    }
}

/// The entries of the agent's job-document model (`otaJobDocModelParamStructure`), in the order it searches
/// them; the raw value is the entry's bit in `ParsedJobDocument.received`.
public enum JobParameter: Int, Sendable, CaseIterable {
    case clientToken, timestamp, execution, jobId, statusDetails, selfTest, updatedBy, jobDocument, afrOta
    case streamName, protocols, files, filePath, fileSize, fileId, certFile, updateDataUrl, authScheme
    case signature, attr, fileType

    /// The coreJSON query; nil for the signature, whose key is the PAL's.
    public var modelKey: String? {
        switch self {
        case .clientToken: "clientToken"
        case .timestamp: "timestamp"
        case .execution: "execution"
        case .jobId: "execution.jobId"
        case .statusDetails: "execution.statusDetails"
        case .selfTest: "execution.statusDetails.self_test"
        case .updatedBy: "execution.statusDetails.updatedBy"
        case .jobDocument: "execution.jobDocument"
        case .afrOta: "execution.jobDocument.afr_ota"
        case .streamName: "execution.jobDocument.afr_ota.streamname"
        case .protocols: "execution.jobDocument.afr_ota.protocols"
        case .files: "execution.jobDocument.afr_ota.files"
        case .filePath: "filepath"
        case .fileSize: "filesize"
        case .fileId: "fileid"
        case .certFile: "certfile"
        case .updateDataUrl: "update_data_url"
        case .authScheme: "auth_scheme"
        case .signature: nil
        case .attr: "attr"
        case .fileType: "fileType"
        }
    }

    /// Whether the model marks the entry required.
    public var isRequired: Bool {
        switch self {
        case .execution, .jobId, .jobDocument, .afrOta, .protocols, .files, .fileSize, .fileId: true
        default: false
        }
    }

    /// The entry's bit in the received bitmap.
    public var bit: UInt32 { 1 << UInt32(rawValue) }
}

/// What the agent holds after parsing one job document (`HilJobDocument_t`). String fields are the bytes of the
/// agent's C strings (up to their NUL), raw from the document: JSON escapes are not undone.
public struct ParsedJobDocument: Sendable, Equatable {
    /// A bit per `JobParameter` found in the document.
    public var received: UInt32 = 0
    public var jobId: [UInt8] = []
    /// The raw array text, such as `["MQTT"]`.
    public var protocols: [UInt8] = []
    public var streamName: [UInt8] = []
    public var filePath: [UInt8] = []
    public var certFile: [UInt8] = []
    public var updateDataUrl: [UInt8] = []
    public var authScheme: [UInt8] = []
    public var fileSize: UInt32 = 0
    public var fileId: UInt32 = 0
    public var fileAttributes: UInt32 = 0
    public var fileType: UInt32 = 0
    public var updatedBy: UInt32 = 0
    /// The self_test key was present, whatever its value.
    public var inSelfTest = false
    /// The signature's decode status when it failed; `.success` otherwise.
    public var base64Status = FreeRTOSBase64.Status.success
    /// The agent's static signature buffer, its `size` bytes: the previous job's when the key is absent.
    public var signature: [UInt8] = []
    /// `parseJSONbyModel`'s result.
    public var docError = DocParseError.none
    /// The agent's verdict on the job.
    public var jobError = JobParseError.none
    /// `EmptyJobDocument` or `FileSizeOverflow`, found after parsing.
    public var otaError = OtaError.none
    /// Whether the document passed JSON validation.
    public var jsonValid = false
    /// The lines the agent logged during the parse.
    public var log: [LogLine] = []

    public init() {}

    public func hasReceived(_ parameter: JobParameter) -> Bool {
        received & parameter.bit != 0
    }

    /// A byte field as text (`doc.text(\.jobId)`); bytes that are not UTF-8 become U+FFFD.
    public func text(_ field: KeyPath<ParsedJobDocument, [UInt8]>) -> String {
        String(decoding: self[keyPath: field], as: UTF8.self)
    }
}
