import Crypto
import FlashProtocol
import Foundation
import OTAVerifier

/// Flashes a TI CC3220SF (or CC3200) through its ROM's UART bootloader over a `Transport`: the thin owner of
/// `CC3220HostStateMachine`. It flushes and breaks when the machine asks (a pty cannot carry the break, the flush is
/// what a simulated chip sees), keeps the machine's one timer on the transport's clock, and reports each step through
/// `onEvent`.
///
/// What it writes are files in the SimpleLink file system, not raw flash: an image goes to a file, an OTA update as
/// the file `/sys/mcuflashimg.bin` (the CC3220SF PAL's image file) opened secure and failsafe, closed with the job's
/// certfile and `sig-sha1-rsa` signature so the network processor checks it on the spot. That close is the device's
/// verdict, reported in `StagedUpdate.closeStatus` as the FreeRTOS PAL would map it.
public final class CC3220Flasher: Flasher {
    /// The file the CC3220SF OTA PAL writes the MCU image to (aws/amazon-freertos `ota_pal.c`: `pFilePath` of an
    /// OTA job for the CC3220SF is /sys/mcuflashimg.bin; the PAL checks that file's flags at start-up).
    public static let imageFile = "/sys/mcuflashimg.bin"
    /// The CC3220SF PAL refuses files over 512 KiB when it creates them (`OTA_MAX_MCU_IMAGE_SIZE`).
    public static let maxImageSize = 512 * 1024
    /// The serial flash of a CC3220SF LaunchPad (MX25R3235F, 4 MiB), the default size `format` uses.
    public static let serialFlashSize = 4 * 1024 * 1024

    public let transport: any Transport
    public var onEvent: ((FlashEvent) -> Void)?
    /// Called when the chip must be reset with SOP2 high and nothing on the wire can do it (a LaunchPad's nRESET is
    /// the XDS110's SRST or the RESET button): a prompt, or nothing on a simulated board, which needs none.
    public var resetByHand: (() -> Void)?
    /// The job-document key the board's PAL reads the signature from (sig-sha1-rsa on the CC3220SF).
    public var signatureKey = "sig-sha1-rsa"
    /// How `stage(_:compress:)` delivers an update.
    public enum Delivery: Sendable, Equatable {
        /// As TI's flow and `otarig flash --ota` do: the image closed as /sys/mcuflashimg.bin with the job's signature,
        /// so the network processor judges it on the spot (`StagedUpdate.closeStatus`).
        case signedClose
        /// As the rig does: the certificate files, then the job document and the image as plain files
        /// (`agentJobFile`, `agentImageFile`) for the device's own OTA agent to take at its next boot, as it would
        /// take them from the OTA service. No close status: the device says its verdict on its console.
        case agentFiles
    }

    public var delivery: Delivery = .signedClose
    /// Where `.agentFiles` puts the job document and the image (otarig's names; a simulated CC3220SF's application
    /// looks for them at boot).
    public static let agentJobFile = CC3220AgentFiles.jobDocument
    public static let agentImageFile = CC3220AgentFiles.image

    /// What GET_VERSION said, after `open()`.
    public private(set) var version: CC3220Version?

    private var machine = CC3220HostStateMachine()
    private var progressName: String?

    public init(transport: any Transport) {
        self.transport = transport
    }

    // MARK: the loop

    private func run(_ operation: CC3220HostStateMachine.Operation, progress: String? = nil) throws(FlashError) -> CC3220HostStateMachine.Outcome {
        progressName = progress
        var actions = machine.start(operation)
        var deadline: Double?
        while true {
            for action in actions {
                switch action {
                case .write(let bytes):
                    do {
                        try transport.send(bytes)
                    } catch {
                        machine = CC3220HostStateMachine()
                        throw .link("cannot write to \(transport.name): \(error)")
                    }
                case .enterBootloader(let reset):
                    transport.discardInput()
                    _ = transport.sendBreak(seconds: 0.2)
                    if reset { resetByHand?() }
                case .delay(let seconds), .expect(_, let seconds):
                    deadline = transport.now + seconds
                case .progress(let done, let total):
                    if let progressName { onEvent?(.progress(name: progressName, done: done, total: total)) }
                case .retrying(let attempt, _, let reason):
                    onEvent?(.retried(step: "connect", attempt: attempt, reason: reason))
                case .completed(let outcome):
                    return outcome
                case .failed(let error):
                    if case .cc3220(let failure) = error, case .noBreakACK = failure.reason { machine = CC3220HostStateMachine() }
                    throw error
                }
            }
            guard let due = deadline else {
                preconditionFailure("CC3220HostStateMachine asked for nothing to wait on")
            }
            let remaining = due - transport.now
            if remaining <= 0 {
                deadline = nil
                actions = machine.timeoutFired()
                continue
            }
            let bytes = transport.receive(timeout: min(remaining, 0.25))
            actions = bytes.isEmpty ? [] : machine.bytesReceived(bytes)
        }
    }

    /// Attempts at a transfer (a file write or read, a raw read) before a failure on the wire is final.
    public var attempts = 3

    /// Runs a transfer; when the wire fails it (no answer, a garbled reply), waits for the line to go quiet, breaks
    /// into the bootloader again and starts the transfer over, up to `attempts` times. A file is never half-written
    /// by this: an unclosed file does not exist on the device.
    private func transfer(_ operation: CC3220HostStateMachine.Operation, progress: String?) throws(FlashError) -> CC3220HostStateMachine.Outcome {
        var attempt = 1
        while true {
            do {
                return try run(operation, progress: progress)
            } catch {
                guard attempt < attempts, case .cc3220(let failure) = error else { throw error }
                switch failure.reason {
                case .noAnswer, .unexpectedReply: break
                default: throw error
                }
                onEvent?(.retried(step: progress ?? "transfer", attempt: attempt, reason: error.description))
                attempt += 1
                machine = CC3220HostStateMachine()
                drainUntilQuiet()
                _ = try open()
            }
        }
    }

    /// Reads and drops what still arrives (a late answer) until the line has been quiet for a second, at most 15 s.
    private func drainUntilQuiet() {
        let giveUp = transport.now + 15
        var quietSince = transport.now
        while transport.now < giveUp, transport.now - quietSince < 1 {
            if !transport.receive(timeout: 0.2).isEmpty { quietSince = transport.now }
        }
        transport.discardInput()
    }

    // MARK: Flasher

    /// Breaks until the bootloader answers, identifies the chip and, on a CC3200/CC3220, switches the UART to the
    /// application core, whose bootloader handles the file system. Returns the chip's name.
    public func open() throws(FlashError) -> String {
        _ = try run(.connect)
        guard case .identified(let first) = try run(.identify) else { throw .link("GET_VERSION_INFO gave no version") }
        var version = first
        if first.needsApplicationSwitch {
            _ = try run(.switchToApplicationCore)
            if case .identified(let switched) = try run(.identify) { version = switched }
        }
        self.version = version
        let name = version.chipFamily.description
        onEvent?(.connected(chip: name))
        return name
    }

    public func changeBaudRate(_ rate: Int) throws(FlashError) {
        guard rate == CC3220Bootloader.baudRate else {
            throw .unsupported("change its baud rate: the CC3220 bootloader runs at \(CC3220Bootloader.baudRate) baud only")
        }
    }

    /// Writes an image: to a file (`.file(name)`), or raw into the serial flash (`.offset`, erased first).
    public func write(_ image: FlashImage, compress: Bool) throws(FlashError) {
        let start = transport.now
        switch image.location {
        case .file(let name):
            _ = try writeFile(CC3220FileWrite(name: name, data: image.bytes), progress: image.name)
        case .offset(let offset):
            guard offset % CC3220Bootloader.fileSystemBlockSize == 0 else {
                throw .layout("a raw write to the serial flash must start on a 4 KiB block; 0x\(String(offset, radix: 16)) does not")
            }
            let blocks = (image.bytes.count + CC3220Bootloader.fileSystemBlockSize - 1) / CC3220Bootloader.fileSystemBlockSize
            _ = try run(.rawErase(storage: .serialFlash, startBlock: offset / CC3220Bootloader.fileSystemBlockSize, blockCount: blocks))
            _ = try run(.rawWrite(storage: .serialFlash, offset: offset, data: image.bytes), progress: image.name)
        }
        try verify(image)
        onEvent?(.wrote(name: image.name, location: image.location, size: image.bytes.count, md5: Self.md5(image.bytes),
                        seconds: transport.now - start))
    }

    /// Reads the file or region back and compares it with the image.
    public func verify(_ image: FlashImage) throws(FlashError) {
        let back = try read(image.location, length: image.bytes.count)
        guard back == image.bytes else {
            throw .digestMismatch(offset: image.location.offsetValue, size: image.bytes.count, expected: Self.md5(image.bytes), device: Self.md5(back))
        }
        onEvent?(.verified(name: image.name, location: image.location, size: image.bytes.count, md5: Self.md5(image.bytes)))
    }

    /// A whole file (`length` ignored beyond the file's size), or `length` bytes of raw serial flash.
    public func read(_ location: FlashLocation, length: Int) throws(FlashError) -> [UInt8] {
        let data: [UInt8]
        switch location {
        case .file(let name):
            guard case .readFile(_, let bytes) = try transfer(.readFile(name: name), progress: name) else { throw .link("READ_FILE_CHUNK gave nothing") }
            data = bytes
        case .offset(let offset):
            guard case .rawRead(let bytes) = try transfer(.rawRead(storage: .serialFlash, offset: offset, length: length), progress: location.description) else {
                throw .link("RAW_STORAGE_READ gave nothing")
            }
            data = bytes
        }
        onEvent?(.read(location: location, size: data.count))
        return data
    }

    /// Puts the update where the CC3220SF's network processor judges it: the certificate files first (DER, under
    /// their names), then the image as `/sys/mcuflashimg.bin`, secure and failsafe, closed with the job's certfile
    /// and signature. The close's result is the device's verdict, in `closeStatus` as the PAL maps it.
    /// With `delivery` `.agentFiles`: the certificate files, then the job document and the image as plain files.
    public func stage(_ update: OTAUpdate, compress: Bool) throws(FlashError) -> StagedUpdate {
        if delivery == .agentFiles {
            try writeCertificates(update.certificates)
            _ = try writeFile(CC3220FileWrite(name: Self.agentJobFile, data: update.jobDocument), progress: Self.agentJobFile)
            _ = try writeFile(CC3220FileWrite(name: Self.agentImageFile, data: update.image), progress: update.name)
            let staged = StagedUpdate(location: Self.agentImageFile)
            onEvent?(.wrote(name: update.name, location: .file(Self.agentImageFile), size: update.image.count, md5: Self.md5(update.image),
                            seconds: 0))
            onEvent?(.staged(name: update.name, staged))
            return staged
        }
        let job = try Self.closeInputs(update.jobDocument, signatureKey: signatureKey)
        try writeCertificates(update.certificates)
        guard Int(job.fileSize) <= Self.maxImageSize else {
            // otaPal_CreateFileForRx refuses before anything is written.
            let status = PALStatus(.rxFileTooLarge, sub: UInt32(Self.maxImageSize))
            let staged = StagedUpdate(location: Self.imageFile, closeStatus: status.rawValue)
            onEvent?(.staged(name: update.name, staged))
            return staged
        }
        let file = CC3220FileWrite(name: Self.imageFile, data: update.image, signature: job.signature, certificateName: job.certFile,
                                   allocation: Int(job.fileSize), eraseFirst: false)
        let close = try writeFile(file, progress: update.name)
        let staged = StagedUpdate(location: Self.imageFile, closeStatus: Self.palStatus(close).rawValue)
        onEvent?(.staged(name: update.name, staged))
        return staged
    }

    /// The certificate files as the SimpleLink file system keeps them: DER, under their names.
    private func writeCertificates(_ certificates: [String: [UInt8]]) throws(FlashError) {
        for (name, bytes) in certificates.sorted(by: { $0.key < $1.key }) {
            guard let der = Self.der(bytes) else { throw .layout("the certificate '\(name)' is neither PEM nor DER") }
            _ = try writeFile(CC3220FileWrite(name: name, data: der), progress: name)
        }
    }

    /// The CC3220 bootloader has no command that starts the application: the chip boots it when nRESET rises with
    /// SOP2 low (remove the SOP2 jumper and press RESET on a LaunchPad).
    public func runApplication() throws(FlashError) {
        throw .unsupported("start the application by a command: reset the chip with SOP2 low (on a LaunchPad: remove the SOP2 jumper, press RESET)")
    }

    // MARK: the file system

    /// Writes a file and returns the device's close status (a signed file's close may be refused: that is the
    /// device's verdict, not a failure of the link).
    @discardableResult
    public func writeFile(_ file: CC3220FileWrite, progress: String? = nil) throws(FlashError) -> CC3220CloseStatus {
        guard case .wroteFile(_, _, let close) = try transfer(.writeFile(file), progress: progress ?? file.name) else {
            throw .link("the write of \(file.name) ended without a close status")
        }
        return close
    }

    public func eraseFile(_ name: String) throws(FlashError) {
        _ = try run(.eraseFile(name: name))
    }

    public func fileInfo(_ name: String) throws(FlashError) -> CC3220FileInfo {
        guard case .fileInfo(let info) = try run(.getFileInfo(name: name)) else { throw .link("GET_FILE_INFO gave nothing") }
        return info
    }

    /// Formats the file system over `size` bytes of serial flash: every file and the security-alert count go.
    public func format(size: Int = CC3220Flasher.serialFlashSize) throws(FlashError) {
        _ = try run(.format(size: size))
    }

    /// The files the serial flash's FAT lists (raw reads of its first blocks, as cc3200tool's list_filesystem does),
    /// each with its size from GET_FILE_INFO.
    public func listFiles() throws(FlashError) -> [(entry: CC3220FAT.Entry, size: Int?)] {
        let blocks = try read(.offset(0), length: 2 * CC3220Bootloader.fileSystemBlockSize)
        guard let fat = CC3220FAT(rawBlocks: blocks) else {
            throw .link("the serial flash holds no valid FAT (format it first)")
        }
        var out: [(entry: CC3220FAT.Entry, size: Int?)] = []
        for entry in fat.entries {
            let info = try? fileInfo(entry.name)
            out.append((entry, info.flatMap { $0.exists ? Int($0.size) : nil }))
        }
        return out
    }

    // MARK: helpers

    /// What the close needs from the job document, read with the device agent's rules for the board's key.
    public struct CloseInputs: Sendable {
        public var certFile: String
        public var signature: [UInt8]
        public var fileSize: UInt32
    }

    public static func closeInputs(_ document: [UInt8], signatureKey: String) throws(FlashError) -> CloseInputs {
        let parsed = JobDocumentParser(signatureKey: signatureKey).parse(document)
        guard parsed.jobError == .none else {
            throw .layout("the job document does not parse as the device's OTA agent reads it (\(parsed.jobError.freeRTOSName)); 'otarig explain' shows why")
        }
        guard parsed.base64Status == .success, !parsed.signature.isEmpty else {
            throw .layout("the job document has no usable \(signatureKey) signature (\(parsed.base64Status.freeRTOSName))")
        }
        let certFile = String(decoding: parsed.certFile, as: UTF8.self)
        guard certFile.utf8.count <= CC3220FinishUpload.certificateSlotLength else {
            throw .layout("the job's certfile '\(certFile)' is \(certFile.utf8.count) bytes; the bootloader's close carries at most \(CC3220FinishUpload.certificateSlotLength)")
        }
        return CloseInputs(certFile: certFile, signature: parsed.signature, fileSize: parsed.fileSize)
    }

    /// How the CC3220SF PAL's otaPal_CloseFile maps sl_FsClose's result (aws/amazon-freertos
    /// vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c): 0 success; ten SimpleLink codes
    /// SignatureCheckFailed, any other FileClose, with the code's low 24 bits as the sub-code. A device that did not
    /// say which code (a real ROM's GET_STATUS has one byte) gives FileClose with sub 0.
    public static func palStatus(_ close: CC3220CloseStatus) -> PALStatus {
        if close.isSuccess { return .success }
        guard let code = close.simpleLinkCode else { return PALStatus(.fileClose) }
        if let error = SimpleLinkError(rawValue: code) { return error.palStatus }
        return PALStatus(.fileClose, sub: UInt32(bitPattern: code) & 0xFF_FFFF)
    }

    /// A certificate as the SimpleLink file system keeps it: DER (a PEM block converted).
    public static func der(_ bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("-----BEGIN ") else { return bytes.first == 0x30 ? bytes : nil }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body.trimmingCharacters(in: .whitespacesAndNewlines), options: .ignoreUnknownCharacters).map(Array.init)
    }

    static func md5(_ bytes: [UInt8]) -> String { Insecure.md5Hex(bytes) }
}

extension FlashLocation {
    /// The offset for messages about a raw region; 0 for a file.
    var offsetValue: Int {
        if case .offset(let offset) = self { return offset }
        return 0
    }
}
