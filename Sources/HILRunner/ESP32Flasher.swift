import Crypto
import FlashProtocol

/// Flashes an ESP32 through its ROM loader over a `Transport`: the thin owner of `ESP32FlashStateMachine`. It
/// sends what the machine says, decodes SLIP frames from what arrives, keeps the one deadline on the transport's
/// clock, and reports each step through `onEvent`.
public final class ESP32Flasher: Flasher {
    /// The flash size this flasher assumes (`ESP32FlashStateMachine.flashSize`).
    public static let flashSize = ESP32FlashStateMachine.flashSize

    /// The line to the chip, and the clock its timeouts run on.
    public let transport: any Transport
    /// Every step as it happens (see `FlashEvent`); progress only for the image or region the caller named.
    public var onEvent: ((FlashEvent) -> Void)?
    /// Seconds to wait for an answer to an ordinary command (esptool's DEFAULT_TIMEOUT).
    public var timeout: Double {
        get { machine.timeout }
        set { machine.timeout = newValue }
    }

    private var machine = ESP32FlashStateMachine()
    private var decoder = SLIP.Decoder()
    /// Frames decoded but not yet given to the machine.
    private var pending: [[UInt8]] = []
    private var deadline: Double?

    /// A flasher over `transport`; nothing is sent until `connect()`.
    public init(transport: any Transport) {
        self.transport = transport
    }

    // MARK: the loop

    /// Runs one operation of the machine to its end. `progress` names the image or region in progress events
    /// (nil: none are reported).
    private func run(_ operation: ESP32FlashStateMachine.Operation, progress: String? = nil) throws(FlashError) -> ESP32FlashStateMachine.Outcome {
        var actions = machine.start(operation)
        while true {
            for action in actions {
                switch action {
                case .send(let bytes, let command):
                    do {
                        try transport.send(bytes)
                    } catch {
                        abandon()
                        throw .link("cannot send \(command.name): \(error)")
                    }
                case .setTimer(let seconds):
                    deadline = transport.now + seconds
                case .setBaudRate(let rate):
                    do {
                        try transport.setBaudRate(rate)
                    } catch {
                        abandon()
                        throw .link("the chip switched to \(rate) baud but the port could not: \(error)")
                    }
                case .drain(let quiet):
                    drain(quiet: quiet)
                case .progress(let done, let total):
                    if let progress { onEvent?(.progress(name: progress, done: done, total: total)) }
                case .retrying(let command, let attempt, let reason):
                    onEvent?(.retried(step: command.name, attempt: attempt, reason: reason))
                case .done(let outcome):
                    deadline = nil
                    return outcome
                case .failed(let error):
                    deadline = nil
                    throw error
                }
            }
            actions = nextEvent()
        }
    }

    /// The next frame for the machine, or its timeout when the deadline passes first.
    private func nextEvent() -> [ESP32FlashStateMachine.Action] {
        while true {
            if !pending.isEmpty { return machine.frameReceived(pending.removeFirst()) }
            // invariant: the machine sets a timer with every request, and waits only for answers to requests.
            guard let deadline else { preconditionFailure("ESP32Flasher: the state machine waits with no timer set") }
            let left = deadline - transport.now
            guard left > 0 else {
                self.deadline = nil
                return machine.timeoutFired()
            }
            pending += decoder.feed(transport.receive(timeout: left))
        }
    }

    private func drain(quiet: Double) {
        pending.removeAll()
        while !transport.receive(timeout: quiet).isEmpty {}
        decoder = SLIP.Decoder()
    }

    private func abandon() {
        machine.cancel()
        deadline = nil
    }

    // MARK: connecting

    /// SYNC until the ROM answers (dropping its extra answers), then checks the chip is an ESP32.
    public func connect() throws(FlashError) {
        try connect(attempts: ESP32FlashStateMachine.syncAttempts)
    }

    /// `connect()` with at most `attempts` SYNCs.
    public func connect(attempts: Int) throws(FlashError) {
        guard case .connected(let magic) = try run(.connect(attempts: attempts)) else { preconditionFailure("connect ends connected") }
        onEvent?(.connected(chip: "ESP32 (magic 0x\(String(magic, radix: 16)))"))
    }

    /// Reads the chip's magic register (an ESP32's, or `notAnESP32`); returns it.
    @discardableResult
    public func detectChip() throws(FlashError) -> UInt32 {
        guard case .chipDetected(let magic) = try run(.detectChip) else { preconditionFailure("detectChip ends with the magic") }
        return magic
    }

    /// SPI_ATTACH with the default pins, then SPI_SET_PARAMS for a flash of `flashSize` bytes.
    public func attachFlash(flashSize: Int = ESP32Flasher.flashSize) throws(FlashError) {
        _ = try run(.attachFlash(flashSize: flashSize))
        onEvent?(.flashAttached(size: flashSize))
    }

    /// CHANGE_BAUDRATE, then the transport follows.
    public func changeBaudRate(_ rate: Int) throws(FlashError) {
        _ = try run(.changeBaudRate(rate))
        onEvent?(.baudRateChanged(rate))
    }

    // MARK: writing and reading

    /// Writes `image` at `offset` (sector-aligned), compressed or not, then checks the flash's MD5.
    public func write(_ image: [UInt8], at offset: Int, compress: Bool = true) throws(FlashError) {
        try write(image, at: offset, compress: compress, name: FlashLocation.offset(offset).description, progress: true)
    }

    private func write(_ image: [UInt8], at offset: Int, compress: Bool, name: String, progress: Bool) throws(FlashError) {
        let started = transport.now
        guard case .wrote(let md5) = try run(.write(image: image, offset: offset, compress: compress), progress: progress ? name : nil) else {
            preconditionFailure("write ends written")
        }
        onEvent?(.wrote(name: name, location: .offset(offset), size: image.count, md5: md5, seconds: transport.now - started))
    }

    /// SPI_FLASH_MD5 of a flash region, as lower-case hex.
    public func md5(offset: Int, size: Int) throws(FlashError) -> String {
        guard case .md5(let md5) = try run(.md5(offset: offset, size: size)) else { preconditionFailure("md5 ends with the digest") }
        return md5
    }

    /// READ_FLASH_SLOW, 64 bytes a request.
    public func read(offset: Int, length: Int) throws(FlashError) -> [UInt8] {
        let bytes = try read(offset: offset, length: length, progress: true)
        onEvent?(.read(location: .offset(offset), size: bytes.count))
        return bytes
    }

    private func read(offset: Int, length: Int, progress: Bool) throws(FlashError) -> [UInt8] {
        let name = FlashLocation.offset(offset).description
        guard case .read(let bytes) = try run(.read(offset: offset, length: length), progress: progress ? name : nil) else {
            preconditionFailure("read ends with the bytes")
        }
        return bytes
    }

    /// Leaves the loader and runs the application (esptool's soft reset from the ROM).
    public func runApplication() throws(FlashError) {
        _ = try run(.runApplication)
        onEvent?(.applicationStarted)
    }

    // MARK: OTA

    /// What the FreeRTOS agent has when an OTA download completes, put on the chip (layout in Boards/README.md): the
    /// image in the OTA slot after the one otadata selects, the job in the staging partition. Returns the slot. An
    /// image larger than the slot is written as far as the slot reaches and staged with its whole size, as the OTA
    /// stream delivers it to a PAL that fails at the first block past the partition.
    @discardableResult
    public func stageOTA(image: [UInt8], job: OTAStaging.Job, compress: Bool = true) throws(FlashError) -> PartitionTable.Entry {
        try stageOTA(image: image, job: job, compress: compress, name: "OTA image").slot
    }

    private func stageOTA(image: [UInt8], job: OTAStaging.Job, compress: Bool, name: String) throws(FlashError) -> OTAStagingPlan.Decision {
        let plan = try OTAStagingPlan(partitionTable: read(offset: PartitionTable.offset, length: PartitionTable.length, progress: false))
        var sectors: [[UInt8]] = []
        for offset in plan.otadataOffsets {
            sectors.append(try read(offset: offset, length: OTAStagingPlan.otadataEntryLength, progress: false))
        }
        let decision = try plan.decide(otadata: sectors, imageSize: image.count, job: job)
        try write(Array(image.prefix(decision.slotBytes)), at: decision.slot.offset, compress: compress, name: name, progress: true)
        try write(decision.record, at: decision.staging.offset, compress: false, name: OTAStaging.label, progress: false)
        onEvent?(.staged(name: name, StagedUpdate(location: decision.slot.label, offset: decision.slot.offset)))
        return decision
    }

    // MARK: Flasher

    /// SYNC, the chip check, and SPI attach: the loader ready for writes. Returns the chip's name.
    public func open() throws(FlashError) -> String {
        try connect()
        try attachFlash()
        return "ESP32"
    }

    /// Writes the image at its offset and checks its MD5 (`write(_:at:compress:)`).
    public func write(_ image: FlashImage, compress: Bool) throws(FlashError) {
        try write(image.bytes, at: Self.offset(image.location, "write \(image.name) to"), compress: compress, name: image.name, progress: true)
    }

    /// Compares the flash's MD5 at the image's offset with the image's, writing nothing.
    public func verify(_ image: FlashImage) throws(FlashError) {
        let offset = try Self.offset(image.location, "verify \(image.name) in")
        let expected = Insecure.md5Hex(image.bytes)
        let device = try md5(offset: offset, size: image.bytes.count)
        guard device == expected else {
            throw .digestMismatch(offset: offset, size: image.bytes.count, expected: expected, device: device)
        }
        onEvent?(.verified(name: image.name, location: image.location, size: image.bytes.count, md5: device))
    }

    /// Reads a flash region (`read(offset:length:)`).
    public func read(_ location: FlashLocation, length: Int) throws(FlashError) -> [UInt8] {
        try read(offset: Self.offset(location, "read"), length: length)
    }

    /// The image into the passive slot, the job document and certificates (UTF-8 text: the PEM the device holds)
    /// into the staging partition.
    public func stage(_ update: OTAUpdate, compress: Bool) throws(FlashError) -> StagedUpdate {
        let document = String(decoding: update.jobDocument, as: UTF8.self)
        guard Array(document.utf8) == update.jobDocument else { throw .layout("the job document of \(update.name) is not UTF-8 text") }
        var certificates: [String: String] = [:]
        for (label, bytes) in update.certificates {
            let text = String(decoding: bytes, as: UTF8.self)
            guard Array(text.utf8) == bytes else {
                throw .unsupported("stage the certificate '\(label)' as DER; the ESP32's staging partition holds PEM text")
            }
            certificates[label] = text
        }
        let job = OTAStaging.Job(slot: "", size: update.image.count, jobDocument: document, certificates: certificates,
                                 revocationList: update.revocationList, deviceTime: update.deviceTime)
        let decision = try stageOTA(image: update.image, job: job, compress: compress, name: update.name)
        return StagedUpdate(location: decision.slot.label, offset: decision.slot.offset)
    }

    /// The flash offset of a location; a file is not something the ROM loader has.
    private static func offset(_ location: FlashLocation, _ what: String) throws(FlashError) -> Int {
        switch location {
        case .offset(let offset): return offset
        case .file(let name): throw .unsupported("\(what) the file '\(name)': the ESP32's ROM loader addresses raw flash offsets")
        }
    }
}
