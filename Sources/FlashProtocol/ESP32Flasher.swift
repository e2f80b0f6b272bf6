import Crypto
import Foundation

/// The bytes between the flasher and a chip: a serial port, a pty, or in tests the simulated chip itself.
public protocol LoaderLink: AnyObject {
    func send(_ bytes: [UInt8]) throws
    /// What arrives within `timeout` seconds; empty when nothing did.
    func receive(timeout: Double) -> [UInt8]
    /// Switches the host side to a new baud rate after CHANGE_BAUDRATE.
    func setBaudRate(_ rate: Int) throws
    /// Monotonic seconds: the link's clock, so this layer reads none itself.
    var now: Double { get }
}

/// Flashes an ESP32 through its ROM loader (no stub): sync, chip check, SPI attach and parameters, FLASH_BEGIN/DATA
/// in 1 KiB blocks or FLASH_DEFL_* with one zlib stream, each block retried, and an MD5 check of what was written.
public final class ESP32Flasher {
    public struct Progress: Sendable {
        public var offset: Int
        public var written: Int
        public var total: Int
    }

    public static let blockSize = 0x400
    public static let flashSize = 4 * 1024 * 1024
    public static let blockAttempts = 3

    let link: LoaderLink
    var decoder = SLIP.Decoder()
    var pending: [[UInt8]] = []
    /// Seconds to wait for an answer to an ordinary command (esptool's DEFAULT_TIMEOUT).
    public var timeout: Double = 3
    public var progress: ((Progress) -> Void)?

    public init(link: LoaderLink) {
        self.link = link
    }

    // MARK: commands

    /// Sends a request and waits for the answer with the same opcode; checks the status bytes (ROM: 4).
    @discardableResult
    public func command(_ opcode: ROMOpcode, _ data: [UInt8] = [], checksum: UInt32 = 0, timeout: Double? = nil) throws(FlashError) -> ROMResponse {
        do {
            try link.send(SLIP.encode(ROMRequest(opcode, checksum: checksum, data: data).encoded))
        } catch {
            throw .link("cannot send \(opcode.name): \(error)")
        }
        let wait = timeout ?? self.timeout
        let deadline = link.now + wait
        var seen = 0
        while seen < 100 {
            guard let frame = nextFrame(until: deadline) else { throw .noAnswer(command: opcode.name, seconds: wait) }
            seen += 1
            guard let response = ROMResponse(decoding: frame), response.opcode == opcode.rawValue else { continue }
            guard let status = response.status(statusLength: 4) else { throw .deviceError(command: opcode.name, code: 0) }
            if status.failed { throw .deviceError(command: opcode.name, code: status.error) }
            return response
        }
        throw .noAnswer(command: opcode.name, seconds: wait)
    }

    private func nextFrame(until deadline: Double) -> [UInt8]? {
        while pending.isEmpty {
            let left = deadline - link.now
            guard left > 0 else { return nil }
            let bytes = link.receive(timeout: left)
            pending += decoder.feed(bytes)
        }
        return pending.removeFirst()
    }

    /// Reads and drops whatever arrives until the line is quiet for `quiet` seconds.
    func drain(quiet: Double = 0.05) {
        pending.removeAll()
        while !link.receive(timeout: quiet).isEmpty {}
        decoder = SLIP.Decoder()
    }

    static func words(_ values: UInt32...) -> [UInt8] { values.flatMap(LittleEndian.bytes) }

    // MARK: connecting

    /// SYNC until the ROM answers, then drops its seven extra answers.
    public func connect(attempts: Int = 7) throws(FlashError) {
        let sync = ROMRequest.syncPayload
        drain()
        for _ in 0..<attempts {
            do {
                try command(.sync, sync, timeout: 0.1)
                drain(quiet: 0.1)
                return
            } catch .link(let why) {
                throw .link(why)
            } catch {
                drain(quiet: 0.05)
            }
        }
        throw .syncFailed(attempts: attempts)
    }

    /// Checks the chip is an ESP32 by its magic register; returns the magic.
    @discardableResult
    public func detectChip() throws(FlashError) -> UInt32 {
        let magic = try command(.readReg, Self.words(0x4000_1000)).value
        guard magic == 0x00F0_1D83 else { throw .notAnESP32(magic: magic) }
        return magic
    }

    /// SPI_ATTACH with the default pins, then SPI_SET_PARAMS for a flash of `flashSize` bytes.
    public func attachFlash(flashSize: Int = ESP32Flasher.flashSize) throws(FlashError) {
        try command(.spiAttach, Self.words(0, 0))
        try command(.spiSetParams, Self.words(0, UInt32(flashSize), 0x10000, 0x1000, 0x100, 0xFFFF))
    }

    /// CHANGE_BAUDRATE, then the host side follows.
    public func changeBaudRate(_ rate: Int) throws(FlashError) {
        try command(.changeBaudrate, Self.words(UInt32(rate), 0))
        do {
            try link.setBaudRate(rate)
        } catch {
            throw .link("the chip switched to \(rate) baud but the port could not: \(error)")
        }
        drain(quiet: 0.05)
    }

    // MARK: writing

    /// Writes `image` at `offset` (sector-aligned), compressed or not, then checks the flash's MD5.
    public func write(_ image: [UInt8], at offset: Int, compress: Bool = true) throws(FlashError) {
        guard offset >= 0, offset + image.count <= Self.flashSize else {
            throw .imageTooLarge(offset: offset, size: image.count, flashSize: Self.flashSize)
        }
        let payload: [UInt8]
        if compress {
            do {
                payload = try Zlib.compress(image)
            } catch {
                throw .link("cannot compress the image: \(error)")
            }
        } else {
            payload = image
        }
        let blocks = max(1, (payload.count + Self.blockSize - 1) / Self.blockSize)
        // The ROM erases at BEGIN: 40 s per MiB at most (esptool's ERASE_WRITE_TIMEOUT_PER_MB).
        let eraseTimeout = max(timeout, 40 * Double(image.count) / 1_048_576)
        if compress {
            let size = (image.count + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            try command(.flashDeflBegin, Self.words(UInt32(size), UInt32(blocks), UInt32(Self.blockSize), UInt32(offset)), timeout: eraseTimeout)
        } else {
            try command(.flashBegin, Self.words(UInt32(image.count), UInt32(blocks), UInt32(Self.blockSize), UInt32(offset)), timeout: eraseTimeout)
        }
        for index in 0..<blocks {
            var block = Array(payload[min(payload.count, index * Self.blockSize)..<min(payload.count, (index + 1) * Self.blockSize)])
            if !compress { block += [UInt8](repeating: 0xFF, count: Self.blockSize - block.count) }
            let packet = Self.words(UInt32(block.count), UInt32(index), 0, 0) + block
            var last = ""
            var done = false
            for _ in 0..<Self.blockAttempts {
                do {
                    try command(compress ? .flashDeflData : .flashData, packet, checksum: ROMRequest.checksum(block))
                    done = true
                    break
                } catch {
                    last = error.description
                    drain(quiet: 0.02)
                }
            }
            guard done else {
                throw .blockFailed(index: index, offset: offset + index * Self.blockSize, attempts: Self.blockAttempts, last: last)
            }
            progress?(Progress(offset: offset, written: min(image.count, (index + 1) * image.count / blocks), total: image.count))
        }
        let expected = Insecure.MD5.hash(data: image).map { hexByte($0) }.joined()
        let device = try md5(offset: offset, size: image.count)
        guard device == expected else { throw .digestMismatch(offset: offset, size: image.count, expected: expected, device: device) }
    }

    /// SPI_FLASH_MD5 of a flash region, as lower-case hex.
    public func md5(offset: Int, size: Int) throws(FlashError) -> String {
        let timeout = max(self.timeout, 8 * Double(size) / 1_048_576)
        let response = try command(.spiFlashMD5, Self.words(UInt32(offset), UInt32(size), 0, 0), timeout: timeout)
        let body = response.data.dropLast(4)
        if body.count == 32 { return String(decoding: body, as: UTF8.self).lowercased() }
        if body.count == 16 { return body.map { hexByte($0) }.joined() }
        throw .deviceError(command: "SPI_FLASH_MD5", code: 0)
    }

    /// READ_FLASH_SLOW, 64 bytes a request.
    public func read(offset: Int, length: Int) throws(FlashError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while out.count < length {
            let chunk = min(64, length - out.count)
            let response = try command(.readFlashSlow, Self.words(UInt32(offset + out.count), UInt32(chunk)))
            guard response.data.count >= 64 + 4 else { throw .deviceError(command: "READ_FLASH_SLOW", code: 0) }
            out += response.data.prefix(chunk)
            progress?(Progress(offset: offset, written: out.count, total: length))
        }
        return out
    }

    /// Leaves the loader and runs the application (esptool's soft reset from the ROM).
    public func runApplication() throws(FlashError) {
        try command(.flashBegin, Self.words(0, 0, UInt32(Self.blockSize), 0))
        try command(.flashEnd, Self.words(1))
    }
}

extension ESP32Flasher {
    /// What the FreeRTOS agent has when an OTA download completes, put on the chip (layout in Boards/README.md): the
    /// image in the OTA slot after the one otadata selects, the job in the staging partition. Returns the slot.
    @discardableResult
    public func stageOTA(image: [UInt8], job: OTAStaging.Job, compress: Bool = true) throws(FlashError) -> PartitionTable.Entry {
        let table: PartitionTable
        do {
            table = try PartitionTable(decoding: try read(offset: PartitionTable.offset, length: PartitionTable.length))
        } catch let error as PartitionTable.DecodeError {
            throw .layout("the chip's partition table: \(error); flash a table with the OTA slots and an '\(OTAStaging.label)' data partition first")
        } catch let error as FlashError {
            throw error
        } catch {
            throw .link("\(error)")
        }
        let slots = table.otaSlots
        guard slots.count >= 2, let staging = table.entry(OTAStaging.label) else {
            throw .layout("the chip's partition table has \(slots.count) OTA slots and \(table.entry(OTAStaging.label) == nil ? "no" : "an") '\(OTAStaging.label)' partition; an OTA update needs two slots and the staging partition")
        }
        var sectors: [[UInt8]] = []
        if let otadata = table.entry("otadata") {
            sectors = [try read(offset: otadata.offset, length: 32), try read(offset: otadata.offset + 0x1000, length: 32)]
        }
        let active = OTASelectEntry.activeSlot(sectors: sectors, slotCount: slots.count)?.slot ?? 0
        let target = slots[(active + 1) % slots.count]
        guard image.count <= target.size else {
            throw .layout("the OTA image is \(image.count) bytes; slot \(target.label) holds \(target.size)")
        }
        var job = job
        job.slot = target.label
        job.size = image.count
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(job) else { throw .layout("the staged job does not encode as JSON") }
        let record = OTAStaging.encode(json: Array(json))
        guard record.count <= staging.size else {
            throw .layout("the job and certificate (\(record.count) bytes) do not fit the \(staging.size)-byte staging partition")
        }
        try write(image, at: target.offset, compress: compress)
        let reporting = progress
        progress = nil
        defer { progress = reporting }
        try write(record, at: staging.offset, compress: false)
        return target
    }
}
