import Crypto

/// The host side of the ESP32 ROM loader's serial protocol (no flasher stub), as a state machine: the owner starts
/// one operation at a time (`start(_:)`), feeds it the frames that arrive (`frameReceived(_:)`) and tells it when
/// the timer it asked for ran out (`timeoutFired()`); each event returns the actions to carry out, in order. It does
/// no I/O and reads no clock: timers are relative, and the owner keeps the one deadline.
///
/// Operations follow esptool's ROM path (`esptool/loader.py` and `cmds.py`, v5): SYNC until the ROM answers, the
/// chip's magic register, SPI_ATTACH and SPI_SET_PARAMS, CHANGE_BAUDRATE, FLASH_BEGIN/FLASH_DATA in 1 KiB blocks or
/// FLASH_DEFL_* with one zlib stream (each block tried `blockAttempts` times), SPI_FLASH_MD5, READ_FLASH_SLOW, and
/// FLASH_BEGIN + FLASH_END to run the application.
///
/// A misbehaving chip is a `.failed(FlashError)` action; calling out of order (an operation before `connect`, or
/// while another runs) is a programmer mistake and traps.
public struct ESP32FlashStateMachine: Sendable {
    // MARK: limits (esptool v5, `esptool/loader.py`, unless said otherwise)

    /// Payload bytes per FLASH_DATA or FLASH_DEFL_DATA packet: the ROM's FLASH_WRITE_SIZE (0x400).
    public static let blockSize = 0x400
    /// The flash this flasher assumes: 4 MiB, as on the ESP32-WROOM-32 and the simulated chip.
    public static let flashSize = 4 * 1024 * 1024
    /// Tries per block before the write fails naming it (WRITE_BLOCK_ATTEMPTS).
    public static let blockAttempts = 3
    /// SYNC tries before `connect` gives up (esptool tries 5 SYNCs per reset attempt, over several resets).
    public static let syncAttempts = 7
    /// Seconds an ordinary command may take (DEFAULT_TIMEOUT).
    public static let defaultTimeout = 3.0
    /// Seconds to wait for SYNC's answer (SYNC_TIMEOUT).
    public static let syncTimeout = 0.1
    /// Seconds per MiB the ROM may spend erasing at FLASH_BEGIN (ERASE_WRITE_TIMEOUT_PER_MB).
    public static let eraseSecondsPerMiB = 40.0
    /// Seconds per MiB SPI_FLASH_MD5 may take (MD5_TIMEOUT_PER_MB).
    public static let md5SecondsPerMiB = 8.0
    /// Bytes per READ_FLASH_SLOW: the ROM answers at most 64 (esptool's `read_flash_slow`, BLOCK_LEN).
    public static let readChunk = 64
    /// Answers to other commands tolerated while waiting for one (`command()` reads at most 100 frames).
    public static let unrelatedFrameLimit = 100
    /// The chip's magic register (CHIP_DETECT_MAGIC_REG_ADDR, esptool's `targets/esp32.py`).
    public static let chipMagicRegister: UInt32 = 0x4000_1000
    /// What an ESP32 reads there (CHIP_DETECT_MAGIC_VALUE).
    public static let esp32Magic: UInt32 = 0x00F0_1D83
    /// The ROM's status bytes at the end of each answer (the stub sends 2).
    public static let statusLength = 4

    /// Quiet periods the line is drained for: before the first SYNC, after SYNC (the ROM answers it eight times),
    /// after a baud change, and after a failed block (a late answer must not be taken for the retry's).
    static let quietBeforeSync = 0.05
    static let quietAfterSync = 0.1
    static let quietAfterBaudChange = 0.05
    static let quietAfterFailedBlock = 0.02

    // MARK: events and actions

    /// What the owner asks for; one at a time.
    public enum Operation: Equatable, Sendable {
        /// SYNC until the ROM answers (at most `attempts` times), then check the chip is an ESP32.
        case connect(attempts: Int)
        /// Read the chip's magic register again.
        case detectChip
        /// SPI_ATTACH with the default pins, then SPI_SET_PARAMS for a flash of `flashSize` bytes.
        case attachFlash(flashSize: Int)
        /// CHANGE_BAUDRATE; the owner's side follows on `.setBaudRate`.
        case changeBaudRate(Int)
        /// Write `image` at `offset`, compressed (FLASH_DEFL_*) or not (FLASH_*), then compare the flash's MD5.
        case write(image: [UInt8], offset: Int, compress: Bool)
        /// SPI_FLASH_MD5 of a region.
        case md5(offset: Int, size: Int)
        /// READ_FLASH_SLOW of a region.
        case read(offset: Int, length: Int)
        /// Leave the loader and run the application (esptool's soft reset from the ROM).
        case runApplication
    }

    /// What an operation gave.
    public enum Outcome: Equatable, Sendable {
        /// The ROM answered SYNC and the magic register says ESP32.
        case connected(magic: UInt32)
        /// The magic register, read again.
        case chipDetected(magic: UInt32)
        /// SPI_ATTACH and SPI_SET_PARAMS were accepted for a flash of `size` bytes.
        case flashAttached(size: Int)
        /// Both sides now run at this rate.
        case baudRateChanged(Int)
        /// The image is on the flash; its MD5 (lower-case hex) matched.
        case wrote(md5: String)
        /// SPI_FLASH_MD5's answer, lower-case hex.
        case md5(String)
        /// The region's bytes.
        case read([UInt8])
        /// The ROM left the loader for the application.
        case applicationStarted
    }

    /// What the owner does, in the order given.
    public enum Action: Equatable, Sendable {
        /// Write these bytes (a whole SLIP frame) to the chip; `command` names it for messages.
        case send([UInt8], command: ROMOpcode)
        /// Arm the one timer (replacing any armed one) to call `timeoutFired()` after `seconds`.
        case setTimer(seconds: Double)
        /// Switch the host side of the line to this rate.
        case setBaudRate(Int)
        /// Read and drop whatever arrives until the line has been quiet for `quiet` seconds, pending frames and a
        /// half-received one included.
        case drain(quiet: Double)
        /// Bytes of the image written, or of the region read, so far.
        case progress(done: Int, total: Int)
        /// An attempt at `command` failed for `reason`; another follows.
        case retrying(command: ROMOpcode, attempt: Int, reason: String)
        /// The operation finished; the timer may be dropped.
        case done(Outcome)
        /// The operation failed; the timer may be dropped.
        case failed(FlashError)
    }

    // MARK: state

    private struct WriteJob: Sendable {
        var payload: [UInt8]
        var offset: Int
        var size: Int
        var blocks: Int
        var compress: Bool
        var md5: String
    }

    private struct ReadJob: Sendable {
        var offset: Int
        var length: Int
        var done = 0
    }

    /// What an answer is awaited for.
    private enum Step: Sendable {
        case syncing(attempt: Int, of: Int)
        case detecting(connecting: Bool)
        case attaching(flashSize: Int)
        case settingParameters(flashSize: Int)
        case changingBaud(Int)
        case beginning(WriteJob)
        case writing(WriteJob, block: Int, attempt: Int)
        /// After a write (`job` set) or on its own.
        case checkingMD5(offset: Int, size: Int, job: WriteJob?)
        case reading(ReadJob)
        case leavingLoader(ending: Bool)
    }

    /// The request in flight: its opcode, how long it may take, and how many other answers came meanwhile.
    private struct Exchange: Sendable {
        var command: ROMOpcode
        var timeout: Double
        var unrelated = 0
    }

    private enum State: Sendable {
        /// Not synced with the loader: only `connect` may start.
        case disconnected
        /// Synced, no operation running.
        case idle
        case waiting(Step, Exchange)
    }

    private var state = State.disconnected
    /// What a read has gathered so far. Kept out of `State` so that appending to it never copies it (a value in
    /// an enum payload is shared with the copies made to switch on it); empty unless `.reading`.
    private var readBuffer: [UInt8] = []
    /// Seconds to wait for an answer to an ordinary command.
    public var timeout: Double = ESP32FlashStateMachine.defaultTimeout

    /// A machine not yet synced with a loader.
    public init() {}

    /// Whether the loader answered SYNC and no operation is running.
    public var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    // MARK: events

    /// Starts an operation. Traps if one is running, or if it is not `connect` and the loader was never synced.
    public mutating func start(_ operation: Operation) -> [Action] {
        switch (state, operation) {
        case (.waiting, _):
            preconditionFailure("ESP32FlashStateMachine: \(operation) started while another operation runs")
        case (.disconnected, .connect), (.idle, .connect):
            break
        case (.disconnected, _):
            preconditionFailure("ESP32FlashStateMachine: \(operation) before connect")
        case (.idle, _):
            break
        }
        switch operation {
        case .connect(let attempts):
            precondition(attempts > 0, "connect needs at least one attempt")
            state = .disconnected
            return [.drain(quiet: Self.quietBeforeSync)] + sync(attempt: 1, of: attempts)
        case .detectChip:
            return request(.readReg, Self.words(Self.chipMagicRegister), then: .detecting(connecting: false))
        case .attachFlash(let flashSize):
            return request(.spiAttach, Self.words(0, 0), then: .attaching(flashSize: flashSize))
        case .changeBaudRate(let rate):
            return request(.changeBaudrate, Self.words(UInt32(rate), 0), then: .changingBaud(rate))
        case .write(let image, let offset, let compress):
            return beginWrite(image, at: offset, compress: compress)
        case .md5(let offset, let size):
            return checkMD5(offset: offset, size: size, job: nil)
        case .read(let offset, let length):
            precondition(offset >= 0 && length >= 0, "read of a negative region")
            readBuffer = []
            readBuffer.reserveCapacity(length)
            return readNext(ReadJob(offset: offset, length: length))
        case .runApplication:
            return request(.flashBegin, Self.words(0, 0, UInt32(Self.blockSize), 0), then: .leavingLoader(ending: false))
        }
    }

    /// A SLIP frame's payload arrived. Answers to other commands are dropped (up to `unrelatedFrameLimit`); frames
    /// while no operation runs are dropped.
    public mutating func frameReceived(_ frame: [UInt8]) -> [Action] {
        guard case .waiting(let step, var exchange) = state else { return [] }
        guard let response = ROMResponse(decoding: frame), response.opcode == exchange.command.rawValue else {
            exchange.unrelated += 1
            guard exchange.unrelated < Self.unrelatedFrameLimit else {
                return attemptFailed(step, .noAnswer(command: exchange.command.name, seconds: exchange.timeout))
            }
            state = .waiting(step, exchange)
            return []
        }
        guard let status = response.status(statusLength: Self.statusLength) else {
            return attemptFailed(step, .deviceError(command: exchange.command.name, code: 0))
        }
        if status.failed { return attemptFailed(step, .deviceError(command: exchange.command.name, code: status.error)) }
        return answered(step, response)
    }

    /// The timer from the last `.setTimer` ran out with no answer. Traps when no operation waits for one.
    public mutating func timeoutFired() -> [Action] {
        guard case .waiting(let step, let exchange) = state else {
            preconditionFailure("ESP32FlashStateMachine: a timeout fired while no operation waits")
        }
        return attemptFailed(step, .noAnswer(command: exchange.command.name, seconds: exchange.timeout))
    }

    /// The owner gave up on the operation in flight (its transport failed, or it was cancelled). A connect that
    /// did not finish leaves the machine disconnected; anything else, idle.
    public mutating func cancel() {
        switch state {
        case .waiting(.syncing, _), .waiting(.detecting(connecting: true), _), .disconnected: state = .disconnected
        case .waiting, .idle: state = .idle
        }
        readBuffer = []
    }

    // MARK: transitions

    private mutating func answered(_ step: Step, _ response: ROMResponse) -> [Action] {
        switch step {
        case .syncing:
            return [.drain(quiet: Self.quietAfterSync)]
                + request(.readReg, Self.words(Self.chipMagicRegister), then: .detecting(connecting: true))
        case .detecting(let connecting):
            guard response.value == Self.esp32Magic else { return finish(.notAnESP32(magic: response.value), connected: !connecting) }
            state = .idle
            return [.done(connecting ? .connected(magic: response.value) : .chipDetected(magic: response.value))]
        case .attaching(let flashSize):
            return request(.spiSetParams, Self.words(0, UInt32(flashSize), 0x10000, 0x1000, 0x100, 0xFFFF),
                           then: .settingParameters(flashSize: flashSize))
        case .settingParameters(let flashSize):
            state = .idle
            return [.done(.flashAttached(size: flashSize))]
        case .changingBaud(let rate):
            state = .idle
            return [.setBaudRate(rate), .drain(quiet: Self.quietAfterBaudChange), .done(.baudRateChanged(rate))]
        case .beginning(let job):
            return sendBlock(job, 0, attempt: 1)
        case .writing(let job, let block, _):
            let done = min(job.size, (block + 1) * job.size / job.blocks)
            let progress = Action.progress(done: done, total: job.size)
            if block + 1 < job.blocks { return [progress] + sendBlock(job, block + 1, attempt: 1) }
            return [progress] + checkMD5(offset: job.offset, size: job.size, job: job)
        case .checkingMD5(let offset, let size, let job):
            let body = response.data.dropLast(Self.statusLength)
            let device: String
            if body.count == 32 {
                device = String(decoding: body, as: UTF8.self).lowercased()
            } else if body.count == 16 {
                device = body.map(hexByte).joined()
            } else {
                return finish(.deviceError(command: ROMOpcode.spiFlashMD5.name, code: 0))
            }
            guard let job else {
                state = .idle
                return [.done(.md5(device))]
            }
            guard device == job.md5 else {
                return finish(.digestMismatch(offset: offset, size: size, expected: job.md5, device: device))
            }
            state = .idle
            return [.done(.wrote(md5: device))]
        case .reading(var job):
            let chunk = min(Self.readChunk, job.length - job.done)
            guard response.data.count >= Self.readChunk + Self.statusLength else {
                return finish(.deviceError(command: ROMOpcode.readFlashSlow.name, code: 0))
            }
            readBuffer += response.data.prefix(chunk)
            job.done += chunk
            return [.progress(done: job.done, total: job.length)] + readNext(job)
        case .leavingLoader(let ending):
            guard ending else { return request(.flashEnd, Self.words(1), then: .leavingLoader(ending: true)) }
            state = .idle
            return [.done(.applicationStarted)]
        }
    }

    /// An attempt ended without a good answer: SYNC and data blocks try again, everything else fails.
    private mutating func attemptFailed(_ step: Step, _ error: FlashError) -> [Action] {
        switch step {
        case .syncing(let attempt, let attempts):
            guard attempt < attempts else { return finish(.syncFailed(attempts: attempts), connected: false) }
            return [.retrying(command: .sync, attempt: attempt, reason: error.description), .drain(quiet: Self.quietBeforeSync)]
                + sync(attempt: attempt + 1, of: attempts)
        case .detecting(let connecting):
            return finish(error, connected: !connecting)
        case .writing(let job, let block, let attempt):
            let command: ROMOpcode = job.compress ? .flashDeflData : .flashData
            guard attempt < Self.blockAttempts else {
                return finish(.blockFailed(index: block, offset: job.offset + block * Self.blockSize, attempts: Self.blockAttempts, last: error.description))
            }
            return [.retrying(command: command, attempt: attempt, reason: error.description), .drain(quiet: Self.quietAfterFailedBlock)]
                + sendBlock(job, block, attempt: attempt + 1)
        default:
            return finish(error)
        }
    }

    private mutating func finish(_ error: FlashError, connected: Bool = true) -> [Action] {
        state = connected ? .idle : .disconnected
        readBuffer = []
        return [.failed(error)]
    }

    // MARK: requests

    private mutating func request(_ command: ROMOpcode, _ data: [UInt8], checksum: UInt32 = 0, timeout: Double? = nil, then step: Step) -> [Action] {
        let exchange = Exchange(command: command, timeout: timeout ?? self.timeout)
        state = .waiting(step, exchange)
        return [.send(SLIP.encode(ROMRequest(command, checksum: checksum, data: data).encoded), command: command),
                .setTimer(seconds: exchange.timeout)]
    }

    private mutating func sync(attempt: Int, of attempts: Int) -> [Action] {
        request(.sync, ROMRequest.syncPayload, timeout: Self.syncTimeout, then: .syncing(attempt: attempt, of: attempts))
    }

    private mutating func beginWrite(_ image: [UInt8], at offset: Int, compress: Bool) -> [Action] {
        guard offset >= 0, offset + image.count <= Self.flashSize else {
            return [.failed(.imageTooLarge(offset: offset, size: image.count, flashSize: Self.flashSize))]
        }
        let payload: [UInt8]
        if compress {
            do {
                payload = try Zlib.compress(image)
            } catch {
                return [.failed(.link("cannot compress the image: \(error)"))]
            }
        } else {
            payload = image
        }
        let blocks = max(1, (payload.count + Self.blockSize - 1) / Self.blockSize)
        let job = WriteJob(payload: payload, offset: offset, size: image.count, blocks: blocks, compress: compress, md5: Insecure.md5Hex(image))
        // The ROM erases at BEGIN, which may take longer than an ordinary command.
        let eraseTimeout = max(timeout, Self.eraseSecondsPerMiB * Double(image.count) / 1_048_576)
        if compress {
            // FLASH_DEFL_BEGIN's size is the uncompressed size rounded up to whole blocks (esptool's ROM path).
            let size = (image.count + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            return request(.flashDeflBegin, Self.words(UInt32(size), UInt32(blocks), UInt32(Self.blockSize), UInt32(offset)),
                           timeout: eraseTimeout, then: .beginning(job))
        }
        return request(.flashBegin, Self.words(UInt32(image.count), UInt32(blocks), UInt32(Self.blockSize), UInt32(offset)),
                       timeout: eraseTimeout, then: .beginning(job))
    }

    private mutating func sendBlock(_ job: WriteJob, _ index: Int, attempt: Int) -> [Action] {
        let start = min(job.payload.count, index * Self.blockSize)
        let end = min(job.payload.count, (index + 1) * Self.blockSize)
        var block = Array(job.payload[start..<end])
        // The ROM writes whole blocks: the last plain block is padded with erased bytes.
        if !job.compress { block += [UInt8](repeating: 0xFF, count: Self.blockSize - block.count) }
        let packet = Self.words(UInt32(block.count), UInt32(index), 0, 0) + block
        return request(job.compress ? .flashDeflData : .flashData, packet, checksum: ROMRequest.checksum(block),
                       then: .writing(job, block: index, attempt: attempt))
    }

    private mutating func checkMD5(offset: Int, size: Int, job: WriteJob?) -> [Action] {
        let timeout = max(self.timeout, Self.md5SecondsPerMiB * Double(size) / 1_048_576)
        return request(.spiFlashMD5, Self.words(UInt32(offset), UInt32(size), 0, 0), timeout: timeout,
                       then: .checkingMD5(offset: offset, size: size, job: job))
    }

    private mutating func readNext(_ job: ReadJob) -> [Action] {
        guard job.done < job.length else {
            state = .idle
            defer { readBuffer = [] }
            return [.done(.read(readBuffer))]
        }
        let chunk = min(Self.readChunk, job.length - job.done)
        return request(.readFlashSlow, Self.words(UInt32(job.offset + job.done), UInt32(chunk)), then: .reading(job))
    }

    static func words(_ values: UInt32...) -> [UInt8] { values.flatMap(LittleEndian.bytes) }
}
