/// FreeRTOS OTA status values and names the twin reports (aws/ota-for-aws-iot-embedded-sdk @477ee9a5
/// `source/include/ota_platform_interface.h`, `ota.h`, `ota_private.h`), and the outcomes the C device core reports, so
/// the two can be compared value for value.

/// `OtaPalStatus_t`: `main << 24 | sub`.
public struct PALStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ main: PALMain, sub: UInt32 = 0) { rawValue = UInt32(main.rawValue) << 24 | (sub & 0xFF_FFFF) }

    public var main: UInt32 { rawValue >> 24 }
    public var sub: UInt32 { rawValue & 0xFF_FFFF }
    public var mainName: String { PALMain(rawValue: UInt8(truncatingIfNeeded: main)).map(\.freeRTOSName) ?? "InvalidErrorCode" }
    public var hex: String { "0x" + Hex.word(rawValue) }
    public var description: String { "\(mainName) (\(hex))" }

    public static let success = PALStatus(.success)
}

/// `OtaPalMainStatus_t`.
public enum PALMain: UInt8, CaseIterable, Sendable {
    case success = 0x00
    case uninitialized = 0xe0
    case outOfMemory = 0xe1
    case nullFileContext = 0xe2
    case signatureCheckFailed = 0xe3
    case rxFileCreateFailed = 0xe4
    case rxFileTooLarge = 0xe5
    case bootInfoCreateFailed = 0xe6
    case badSignerCert = 0xe7
    case badImageState = 0xe8
    case abortFailed = 0xe9
    case rejectFailed = 0xea
    case commitFailed = 0xeb
    case activateFailed = 0xec
    case fileAbort = 0xed
    case fileClose = 0xee

    public var freeRTOSName: String {
        switch self {
        case .success: "OtaPalSuccess"
        case .uninitialized: "OtaPalUninitialized"
        case .outOfMemory: "OtaPalOutOfMemory"
        case .nullFileContext: "OtaPalNullFileContext"
        case .signatureCheckFailed: "OtaPalSignatureCheckFailed"
        case .rxFileCreateFailed: "OtaPalRxFileCreateFailed"
        case .rxFileTooLarge: "OtaPalRxFileTooLarge"
        case .bootInfoCreateFailed: "OtaPalBootInfoCreateFailed"
        case .badSignerCert: "OtaPalBadSignerCert"
        case .badImageState: "OtaPalBadImageState"
        case .abortFailed: "OtaPalAbortFailed"
        case .rejectFailed: "OtaPalRejectFailed"
        case .commitFailed: "OtaPalCommitFailed"
        case .activateFailed: "OtaPalActivateFailed"
        case .fileAbort: "OtaPalFileAbort"
        case .fileClose: "OtaPalFileClose"
        }
    }
}

/// `OtaImageState_t`: what the agent asks the PAL to set.
public enum ImageState: Int, Sendable {
    case unknown = 0, testing, accepted, rejected, aborted

    public var name: String {
        switch self {
        case .unknown: "Unknown"
        case .testing: "Testing"
        case .accepted: "Accepted"
        case .rejected: "Rejected"
        case .aborted: "Aborted"
        }
    }
}

/// What happened to the job, with the same names the C core's `HIL_OtaOutcomeName` prints.
public enum DeviceOutcome: String, Sendable, CaseIterable {
    case accepted
    case selfTestStarted = "self-test-started"
    case noActiveJob = "no-active-job"
    case rejectedJobDocument = "rejected-job-document"
    case rejectedProtocol = "rejected-protocol"
    case rejectedBlock = "rejected-block"
    /// The PAL could not write the file into its partition: a block that ends past it (the ESP32 PAL's
    /// `otaPal_WriteBlock`, ingest result -9), or the signature block its close appends after the image (`OtaPalFileClose`).
    case rejectedWrite = "rejected-write"
    /// The PAL could not create the file (the CC3220SF's 512 KiB limit); the agent aborts the job.
    case rejectedFileCreate = "rejected-file-create"
    case rejectedSignature = "rejected-signature"
    case rejectedVersion = "rejected-version"
    case rejectedImageState = "rejected-image-state"

    /// The device goes on with the image (it waits for activation, or its self test began).
    public var isAcceptance: Bool { self == .accepted || self == .selfTestStarted }
}
