/// Why a CC3200/CC3220 bootloader exchange failed: the command, its place in a transfer and the reason.
public struct CC3220Failure: Equatable, Sendable, CustomStringConvertible {
    /// Why.
    public enum Reason: Equatable, Sendable {
        /// Nothing (or nothing well-formed) came within the timeout; `awaiting` names what was due ("ACK", "frame",
        /// "4 raw bytes", "second ACK").
        case noAnswer(awaiting: String, seconds: Double)
        /// No ACK to the break in this many attempts.
        case noBreakACK(attempts: Int)
        /// GET_STATUS reported this status for the command (and, from otarig's simulator, a SimpleLink code).
        case status(UInt8, simpleLinkCode: Int32?)
        /// A reply of the wrong shape.
        case unexpectedReply(String)
        /// The host would not send it (a name too long, a file too large, a file that does not exist).
        case refused(String)
    }

    /// The command whose exchange failed, or whose status was bad; nil for the break that enters the bootloader.
    public var opcode: CC3220Opcode?
    /// When `opcode` is GET_STATUS: the command whose status it was fetching.
    public var statusOf: CC3220Opcode?
    /// The chunk's index within a file or raw transfer, when the failure is in one.
    public var chunk: Int?
    /// The chunk's byte offset (in the file, or in the storage for raw transfers).
    public var offset: Int?
    public var reason: Reason

    public init(opcode: CC3220Opcode?, statusOf: CC3220Opcode? = nil, chunk: Int? = nil, offset: Int? = nil, reason: Reason) {
        self.opcode = opcode
        self.statusOf = statusOf
        self.chunk = chunk
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        var what = opcode?.name ?? "the break"
        if let statusOf { what += " after \(statusOf.name)" }
        if let chunk { what += " (chunk \(chunk)" + (offset.map { " at offset 0x\(String($0, radix: 16))" } ?? "") + ")" }
        switch reason {
        case .noAnswer(let awaiting, let seconds):
            return "\(what): no \(awaiting) within \(FlashError.format(seconds)) s"
        case .noBreakACK(let attempts):
            return "no ACK to the break in \(attempts) attempts: is SOP2 high while the chip resets, and is this its port?"
        case .status(let status, let code):
            return "\(what) failed: " + CC3220CloseStatus(status: status, simpleLinkCode: code).description
        case .unexpectedReply(let why):
            return "\(what): unexpected reply: \(why)"
        case .refused(let why):
            return "\(what): \(why)"
        }
    }
}

/// A file to write through the bootloader's file commands.
public struct CC3220FileWrite: Equatable, Sendable {
    /// The file's name on the device (at most `CC3220Bootloader.maxFileNameLength` bytes).
    public var name: String
    public var data: [UInt8]
    /// The signature the device checks at close (RSA PKCS#1 v1.5 over SHA-1, 128 or 256 bytes on a real CC3220;
    /// any length is sent), or nil for an unsigned file.
    public var signature: [UInt8]?
    /// The certificate file the device verifies with, NUL-padded into the close's 63-byte slot; "" for the device's
    /// default.
    public var certificateName: String
    /// START_UPLOAD's file-system flags; by default cc3200tool's: COMMIT|SECURE|PUBLIC_WRITE when signed, none else.
    public var fileSystemFlags: CC3220OpenFlags.FileSystemFlags
    /// Bytes to allocate (at least `data.count`; cc3200tool `--file-size`).
    public var allocation: Int
    /// Erase the file first when GET_FILE_INFO says it exists (cc3200tool always does).
    public var eraseFirst: Bool

    public init(name: String, data: [UInt8], signature: [UInt8]? = nil, certificateName: String = "",
                fileSystemFlags: CC3220OpenFlags.FileSystemFlags? = nil, allocation: Int? = nil, eraseFirst: Bool = true) {
        self.name = name
        self.data = data
        self.signature = signature
        self.certificateName = certificateName
        self.fileSystemFlags = fileSystemFlags ?? (signature == nil ? [] : .signed)
        self.allocation = max(allocation ?? data.count, data.count)
        self.eraseFirst = eraseFirst
    }

    /// The close's payload: otarig's signed close (certificate name, signature, nothing after), or cc3200tool's
    /// unsigned one (zeros, `'F'`×256, `00`).
    public var finishUpload: CC3220FinishUpload {
        guard let signature else { return .cc3200tool() }
        return CC3220FinishUpload(certificateName: certificateName, signature: signature)
    }
}

/// The host side of the CC3200/CC3220 ROM UART bootloader (what `otarig flash` drives), as an exchange-level state
/// machine: the owner starts one operation at a time (`start(_:)`), feeds it every byte read (`bytesReceived(_:)`)
/// and tells it when the timer it asked for ran out (`timeoutFired()`); each event returns the actions to carry out,
/// in order. It does no I/O and reads no clock: the owner does the break, the reset and the waiting.
///
/// Operations follow cc3200tool (`cc.py`) and mos (`rom_client.go`), reference §2.7: connect (break, ACK; 5 tries),
/// identify (GET_VERSION_INFO), switch to the application core (SWITCH_UART_TO_APPS 26 666 667, ACK, a 1 s pause,
/// then break, flush and ACK as mos does), storage list/info, format, file info, write file ([GET_FILE_INFO,
/// ERASE_FILE, GET_STATUS], START_UPLOAD, (FILE_CHUNK, GET_STATUS)×n, FINISH_UPLOAD, GET_STATUS), read file
/// (GET_FILE_INFO, START_UPLOAD flags 0, READ_FILE_CHUNK×n, FINISH_UPLOAD, GET_STATUS), erase file, raw read, raw write
/// ((RAW_STORAGE_WRITE, GET_STATUS)×n as TI and mos do), raw erase and exec from RAM. The host ACKs every framed reply.
///
/// A signed write whose close the device refuses still *completes*: the refusal is the device's verdict (a HIL
/// scenario may expect it), carried in `.wroteFile(close:)`. Any other bad status, a timeout or a malformed reply is
/// `.failed(.cc3220(CC3220Failure))` naming the command, the chunk and its offset. Calling out of order (an operation
/// before `connect`, or while another runs) is a programmer mistake and traps.
public struct CC3220HostStateMachine: Sendable {
    // MARK: limits and timeouts

    /// Breaks tried before connect gives up (cc3200tool `_try_breaking(tries=5)`; mos `connect` 5; AudigoLabs 5).
    public static let breakAttempts = 5
    /// Seconds to wait for the ACK to a break (cc3200tool `_try_breaking(timeout=2)`; AudigoLabs 2 s; mos 1 s).
    public static let breakACKTimeout = 2.0
    /// Seconds an ordinary command may take, per ACK or reply (cc3200tool `CC3200Connection.TIMEOUT` = 5).
    public static let defaultTimeout = 5.0
    /// Seconds for GET_STORAGE_LIST's raw byte (cc3200tool `_get_storage_list`: 0.5 s).
    public static let storageListTimeout = 0.5
    /// Seconds for RAW_STORAGE_ERASE's ACK, which comes once the blocks are erased (cc3200tool `ERASE_TIMEOUT`).
    public static let eraseTimeout = 120.0
    /// Seconds for FORMAT and its status (mos `FormatSLFS`: a 10 s read timeout).
    public static let formatTimeout = 10.0
    /// Seconds to pause after SWITCH_UART_TO_APPS's ACK before breaking again (cc3200tool `time.sleep(1)`; mos 1.2).
    public static let switchPause = 1.0
    /// START_UPLOAD's timeout grows by 5 s per 200 000 bytes allocated (doubled for COMMIT): cc3200tool `write_file`
    /// ("empirical value is ~252925 bytes for 5 sec timeout").
    public static let openSecondsPer200000Bytes = 5.0

    // MARK: events and actions

    /// What the owner asks for; one at a time.
    public enum Operation: Equatable, Sendable {
        /// Flush, break (with a reset into the bootloader), wait for `00 CC`; up to `breakAttempts` times.
        case connect
        /// GET_VERSION_INFO.
        case identify
        /// SWITCH_UART_TO_APPS, then break again and wait for the application core's ACK.
        case switchToApplicationCore
        case getStorageList
        case getStorageInfo(CC3220StorageID)
        /// GET_STATUS on its own.
        case getStatus
        /// FORMAT a file system of `size` bytes (blocks = size / 4096), then GET_STATUS.
        case format(size: Int)
        case getFileInfo(name: String)
        case writeFile(CC3220FileWrite)
        /// Read a whole file (its size from GET_FILE_INFO).
        case readFile(name: String)
        case eraseFile(name: String)
        case rawRead(storage: CC3220StorageID, offset: Int, length: Int)
        case rawWrite(storage: CC3220StorageID, offset: Int, data: [UInt8])
        case rawErase(storage: CC3220StorageID, startBlock: Int, blockCount: Int)
        /// EXEC_FROM_RAM, then its second ACK.
        case execFromRAM
    }

    /// What an operation gave.
    public enum Outcome: Equatable, Sendable {
        case connected
        case identified(CC3220Version)
        case switchedToApplicationCore
        case storageList(CC3220StorageList)
        case storageInfo(CC3220StorageInfo)
        case status(CC3220CloseStatus)
        case formatted(blockCount: Int)
        case fileInfo(CC3220FileInfo)
        /// The file was written; `close` is what GET_STATUS said after FINISH_UPLOAD (for a signed file, the
        /// device's verdict: `close.isSuccess == false` when it refused the signature).
        case wroteFile(name: String, size: Int, close: CC3220CloseStatus)
        case readFile(name: String, data: [UInt8])
        case erasedFile(name: String)
        case rawRead([UInt8])
        case rawWritten(count: Int)
        case rawErased
        case executedFromRAM
    }

    /// What the owner does, in the order given.
    public enum Action: Equatable, Sendable {
        /// Write these bytes to the line.
        case write([UInt8])
        /// Flush the port's input, then hold a break on the line (cc3200tool 0.2 s; AudigoLabs 1.5 s) and, when
        /// `reset`, reset the chip with SOP2 high meanwhile (the board's reset lines, or a prompt). The machine has
        /// dropped the bytes it held, as the flush does.
        case enterBootloader(reset: Bool)
        /// Arm the one timer (replacing any armed one) for a pause of `seconds`; call `timeoutFired()` when it ends.
        /// Bytes read meanwhile are fed as usual (the machine holds them).
        case delay(seconds: Double)
        /// Arm the one timer (replacing any armed one): the machine now waits for this; call `timeoutFired()` if
        /// `timeout` seconds pass first.
        case expect(CC3220FrameDecoder.Expectation, timeout: Double)
        /// Bytes of a transfer done so far.
        case progress(done: Int, total: Int)
        /// A break got no ACK; another attempt follows.
        case retrying(attempt: Int, of: Int, reason: String)
        /// The operation finished; the timer may be dropped.
        case completed(Outcome)
        /// The operation failed; the timer may be dropped.
        case failed(FlashError)
    }

    // MARK: state

    private struct WriteJob: Sendable {
        var file: CC3220FileWrite
        var flags: CC3220OpenFlags
        var chunks: Int
    }

    private enum WriteStep: Sendable {
        case checking, erasing, erasingStatus, opening
        case chunk(Int), chunkStatus(Int)
        case closing, closeStatus
    }

    private enum ReadStep: Sendable {
        case checking, opening
        case chunk(Int)
        case closing, closeStatus
    }

    private struct RawJob: Sendable {
        var storage: CC3220StorageID
        var offset: Int
        var length: Int
        /// The data to write (empty for a read).
        var data: [UInt8]
    }

    /// Where an operation is.
    private enum Step: Sendable {
        case connecting(attempt: Int)
        case identifying
        case switching
        case switchPause
        case switchBreak(attempt: Int)
        case storageList
        case storageInfo
        case status
        case formatting(blocks: Int)
        case formatStatus(blocks: Int)
        case fileInfo
        case writing(WriteJob, WriteStep)
        case reading(name: String, size: Int, ReadStep)
        case erasingFile(name: String)
        case eraseFileStatus(name: String)
        case rawReading(RawJob, chunk: Int)
        case rawWriting(RawJob, chunk: Int)
        case rawWriteStatus(RawJob, chunk: Int)
        case rawErasing
        case rawEraseStatus
        case executing
    }

    private enum Reply: Sendable {
        case none
        case frame
        case raw(Int)
        case secondACK
    }

    /// The exchange in flight.
    private struct Exchange: Sendable {
        var opcode: CC3220Opcode?
        var statusOf: CC3220Opcode?
        var reply: Reply
        /// Seconds for the ACK, then for the reply.
        var ackTimeout: Double
        var replyTimeout: Double
        var chunk: Int?
        var offset: Int?
        var ackReceived = false
    }

    private enum State: Sendable {
        /// Not connected: only `connect` may start.
        case disconnected
        /// Connected, no operation running.
        case idle
        case waiting(Step, Exchange)
        case pausing(Step)
    }

    private enum Received {
        case ack
        case frame([UInt8])
        case raw([UInt8])
    }

    private var state = State.disconnected
    private var decoder = CC3220FrameDecoder(expecting: .ack)
    /// What a file or raw read has gathered so far (kept out of `State` so appending never copies it).
    private var readBuffer: [UInt8] = []

    /// A machine not yet connected to a bootloader.
    public init() {}

    /// Whether the bootloader answered and no operation is running.
    public var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Frames dropped for a wrong checksum.
    public var droppedFrames: Int { decoder.droppedFrames }

    // MARK: events

    /// Starts an operation. Traps if one is running, or if it is not `connect` and the machine never connected.
    public mutating func start(_ operation: Operation) -> [Action] {
        switch (state, operation) {
        case (.waiting, _), (.pausing, _):
            preconditionFailure("CC3220HostStateMachine: \(operation) started while another operation runs")
        case (.disconnected, .connect), (.idle, _):
            break
        case (.disconnected, _):
            preconditionFailure("CC3220HostStateMachine: \(operation) before connect")
        }
        switch operation {
        case .connect:
            state = .disconnected
            return breakAttempt(.connecting(attempt: 1), reset: true)
        case .identify:
            return send(.getVersionInfo, reply: .frame, then: .identifying)
        case .switchToApplicationCore:
            return send(.switchUARTToApps(delay: CC3220Bootloader.switchDelayArgument), reply: .none, then: .switching)
        case .getStorageList:
            return send(.getStorageList, reply: .raw(1), replyTimeout: Self.storageListTimeout, then: .storageList)
        case .getStorageInfo(let storage):
            return send(.getStorageInfo(storage: storage), reply: .frame, then: .storageInfo)
        case .getStatus:
            return send(.getStatus, reply: .frame, then: .status)
        case .format(let size):
            precondition(size >= 0, "format of a negative size")
            let blocks = size / CC3220Bootloader.fileSystemBlockSize
            return send(.format(blockCount: UInt32(truncatingIfNeeded: blocks)), reply: .none, timeout: Self.formatTimeout,
                        then: .formatting(blocks: blocks))
        case .getFileInfo(let name):
            if let refusal = Self.refusal(fileName: name, .getFileInfo) { return [.failed(refusal)] }
            return send(.getFileInfo(name: name), reply: .frame, then: .fileInfo)
        case .writeFile(let file):
            return startWrite(file)
        case .readFile(let name):
            if let refusal = Self.refusal(fileName: name, .getFileInfo) { return [.failed(refusal)] }
            readBuffer = []
            return send(.getFileInfo(name: name), reply: .frame, then: .reading(name: name, size: 0, .checking))
        case .eraseFile(let name):
            if let refusal = Self.refusal(fileName: name, .eraseFile) { return [.failed(refusal)] }
            return send(.eraseFile(name: name), reply: .none, then: .erasingFile(name: name))
        case .rawRead(let storage, let offset, let length):
            precondition(offset >= 0 && length >= 0 && offset + length <= Int(UInt32.max), "raw read of a bad region")
            readBuffer = []
            readBuffer.reserveCapacity(length)
            return rawReadNext(RawJob(storage: storage, offset: offset, length: length, data: []), chunk: 0)
        case .rawWrite(let storage, let offset, let data):
            precondition(offset >= 0 && offset + data.count <= Int(UInt32.max), "raw write of a bad region")
            return rawWriteNext(RawJob(storage: storage, offset: offset, length: data.count, data: data), chunk: 0)
        case .rawErase(let storage, let startBlock, let blockCount):
            precondition(startBlock >= 0 && blockCount >= 0, "raw erase of negative blocks")
            return send(.rawStorageErase(storage: storage, startBlock: UInt32(truncatingIfNeeded: startBlock),
                                         blockCount: UInt32(truncatingIfNeeded: blockCount)),
                        reply: .none, timeout: Self.eraseTimeout, then: .rawErasing)
        case .execFromRAM:
            return send(.execFromRAM, reply: .secondACK, then: .executing)
        }
    }

    /// Bytes read from the line, in any pieces. Bytes while no operation runs are dropped.
    public mutating func bytesReceived(_ bytes: some Sequence<UInt8>) -> [Action] {
        switch state {
        case .disconnected, .idle: return []
        case .pausing(let step):
            decoder.append(bytes)
            // The application core's 00 CC before the host's break: a simulated chip sends it unasked, since the break
            // cannot cross a pty (reference §0 #5, §7.2); a real core answers only the break, so nothing comes here and
            // the pause ends in the break as cc3200tool and mos do.
            guard case .switchPause = step, decoder.expecting == .ack, case .ack? = decoder.next() else { return [] }
            state = .idle
            return [.completed(.switchedToApplicationCore)]
        case .waiting:
            decoder.append(bytes)
        }
        var actions: [Action] = []
        while case .waiting(let step, var exchange) = state, let item = decoder.next() {
            switch item {
            case .ack where !exchange.ackReceived:
                exchange.ackReceived = true
                switch exchange.reply {
                case .none:
                    actions += advance(step, exchange, .ack)
                case .frame:
                    state = .waiting(step, exchange)
                    actions.append(expect(.frame, exchange.replyTimeout))
                case .raw(let count):
                    state = .waiting(step, exchange)
                    actions.append(expect(.raw(count: count), exchange.replyTimeout))
                case .secondACK:
                    state = .waiting(step, exchange)
                    actions.append(expect(.ack, exchange.replyTimeout))
                }
            case .ack:
                actions += advance(step, exchange, .ack)
            case .frame(let payload):
                actions.append(.write(CC3220Bootloader.ack))
                actions += advance(step, exchange, .frame(payload))
            case .raw(let bytes):
                actions += advance(step, exchange, .raw(bytes))
            }
        }
        return actions
    }

    /// The timer from the last `.expect` or `.delay` ran out. Traps when no operation waits.
    public mutating func timeoutFired() -> [Action] {
        switch state {
        case .disconnected, .idle:
            preconditionFailure("CC3220HostStateMachine: a timeout fired while no operation waits")
        case .pausing(let step):
            guard case .switchPause = step else { preconditionFailure("CC3220HostStateMachine: pausing at \(step)") }
            return breakAttempt(.switchBreak(attempt: 1), reset: false)
        case .waiting(let step, let exchange):
            switch step {
            case .connecting(let attempt):
                return breakFailed(attempt: attempt, connecting: true)
            case .switchBreak(let attempt):
                return breakFailed(attempt: attempt, connecting: false)
            default:
                guard exchange.ackReceived else {
                    return fail(exchange, .noAnswer(awaiting: "ACK", seconds: exchange.ackTimeout))
                }
                let awaiting = switch exchange.reply {
                case .none: "ACK"
                case .frame: "frame"
                case .raw(let count): "\(count) raw bytes"
                case .secondACK: "second ACK"
                }
                return fail(exchange, .noAnswer(awaiting: awaiting, seconds: exchange.replyTimeout))
            }
        }
    }

    /// A break got no ACK: try again, or give up after `breakAttempts` (a failed switch leaves the machine connected
    /// to the network core's bootloader, as far as it knows).
    private mutating func breakFailed(attempt: Int, connecting: Bool) -> [Action] {
        guard attempt < Self.breakAttempts else {
            return finish(.cc3220(CC3220Failure(opcode: nil, reason: .noBreakACK(attempts: attempt))), connected: !connecting)
        }
        let next: Step = connecting ? .connecting(attempt: attempt + 1) : .switchBreak(attempt: attempt + 1)
        return [.retrying(attempt: attempt, of: Self.breakAttempts, reason: "no ACK within \(FlashError.format(Self.breakACKTimeout)) s")]
            + breakAttempt(next, reset: connecting)
    }

    /// The owner gave up on the operation in flight (its transport failed, or it was cancelled). A connect that did
    /// not finish leaves the machine disconnected; anything else, idle.
    public mutating func cancel() {
        switch state {
        case .waiting(.connecting, _), .disconnected: state = .disconnected
        case .waiting, .pausing, .idle: state = .idle
        }
        readBuffer = []
    }

    // MARK: transitions

    private mutating func advance(_ step: Step, _ exchange: Exchange, _ received: Received) -> [Action] {
        switch step {
        case .connecting:
            state = .idle
            return [.completed(.connected)]
        case .switching:
            state = .pausing(.switchPause)
            return [.delay(seconds: Self.switchPause)]
        case .switchPause:
            preconditionFailure("CC3220HostStateMachine: an exchange while pausing")
        case .switchBreak:
            state = .idle
            return [.completed(.switchedToApplicationCore)]
        case .identifying:
            guard case .frame(let payload) = received, let version = CC3220Version(frame: payload) else {
                return fail(exchange, .unexpectedReply("a version reply of \(Self.count(received)) bytes, not 28"))
            }
            return done(.identified(version))
        case .storageList:
            guard case .raw(let bytes) = received, let byte = bytes.first else { return fail(exchange, .unexpectedReply("no storage list byte")) }
            return done(.storageList(CC3220StorageList(rawValue: byte)))
        case .storageInfo:
            guard case .frame(let payload) = received, let info = CC3220StorageInfo(frame: payload) else {
                return fail(exchange, .unexpectedReply("a storage info reply of \(Self.count(received)) bytes, fewer than 4"))
            }
            return done(.storageInfo(info))
        case .status:
            guard let status = Self.status(received) else { return fail(exchange, .unexpectedReply("an empty status frame")) }
            return done(.status(status))
        case .formatting(let blocks):
            return queryStatus(of: .format, timeout: Self.formatTimeout, then: .formatStatus(blocks: blocks))
        case .formatStatus(let blocks):
            return checkStatus(received, exchange) { machine in machine.done(.formatted(blockCount: blocks)) }
        case .fileInfo:
            guard case .frame(let payload) = received, let info = CC3220FileInfo(frame: payload) else {
                return fail(exchange, .unexpectedReply("a file info reply of \(Self.count(received)) bytes, fewer than 8"))
            }
            return done(.fileInfo(info))
        case .writing(let job, let writeStep):
            return advanceWrite(job, writeStep, exchange, received)
        case .reading(let name, let size, let readStep):
            return advanceRead(name: name, size: size, readStep, exchange, received)
        case .erasingFile(let name):
            return queryStatus(of: .eraseFile, then: .eraseFileStatus(name: name))
        case .eraseFileStatus(let name):
            return checkStatus(received, exchange) { machine in machine.done(.erasedFile(name: name)) }
        case .rawReading(let job, let chunk):
            let want = min(CC3220Bootloader.maxRawRead, job.length - chunk * CC3220Bootloader.maxRawRead)
            guard case .frame(let payload) = received, payload.count == want else {
                return fail(exchange, .unexpectedReply("\(Self.count(received)) bytes, not \(want)"))
            }
            readBuffer += payload
            return [.progress(done: readBuffer.count, total: job.length)] + rawReadNext(job, chunk: chunk + 1)
        case .rawWriting(let job, let chunk):
            return queryStatus(of: .rawStorageWrite, chunk: chunk, offset: job.offset + chunk * CC3220Bootloader.maxRawWrite,
                               then: .rawWriteStatus(job, chunk: chunk))
        case .rawWriteStatus(let job, let chunk):
            return checkStatus(received, exchange) { machine in
                let done = min(job.length, (chunk + 1) * CC3220Bootloader.maxRawWrite)
                return [.progress(done: done, total: job.length)] + machine.rawWriteNext(job, chunk: chunk + 1)
            }
        case .rawErasing:
            return queryStatus(of: .rawStorageErase, then: .rawEraseStatus)
        case .rawEraseStatus:
            return checkStatus(received, exchange) { machine in machine.done(.rawErased) }
        case .executing:
            return done(.executedFromRAM)
        }
    }

    private mutating func startWrite(_ file: CC3220FileWrite) -> [Action] {
        if let refusal = Self.refusal(fileName: file.name, .startUpload) { return [.failed(refusal)] }
        if let signature = file.signature {
            guard file.certificateName.utf8.count <= CC3220FinishUpload.certificateSlotLength else {
                return [.failed(.cc3220(CC3220Failure(opcode: .finishUpload, reason: .refused(
                    "the certificate name '\(file.certificateName)' is longer than the 63-byte slot"))))]
            }
            guard 1 + CC3220FinishUpload.certificateSlotLength + signature.count <= CC3220Bootloader.maxFramePayload else {
                return [.failed(.cc3220(CC3220Failure(opcode: .finishUpload, reason: .refused("a \(signature.count)-byte signature does not fit a frame"))))]
            }
        }
        guard let flags = CC3220OpenFlags.forWriting(allocation: file.allocation, fileSystemFlags: file.fileSystemFlags) else {
            return [.failed(.cc3220(CC3220Failure(opcode: .startUpload, reason: .refused(
                "\(file.allocation) bytes do not fit 255 blocks of 64 KiB"))))]
        }
        let chunks = (file.data.count + CC3220Bootloader.maxFileChunk - 1) / CC3220Bootloader.maxFileChunk
        let job = WriteJob(file: file, flags: flags, chunks: chunks)
        if file.eraseFirst {
            return send(.getFileInfo(name: file.name), reply: .frame, then: .writing(job, .checking))
        }
        return open(job)
    }

    private mutating func open(_ job: WriteJob) -> [Action] {
        let effective = job.file.allocation * (job.file.fileSystemFlags.contains(.commit) ? 2 : 1)
        var timeout = Self.defaultTimeout
        if effective > 200_000 {
            timeout = max(timeout, Self.openSecondsPer200000Bytes * (Double(effective) / 200_000 + 1))
        }
        return send(.startUpload(name: job.file.name, flags: job.flags), reply: .raw(4), timeout: timeout,
                    then: .writing(job, .opening))
    }

    private mutating func advanceWrite(_ job: WriteJob, _ step: WriteStep, _ exchange: Exchange, _ received: Received) -> [Action] {
        switch step {
        case .checking:
            guard case .frame(let payload) = received, let info = CC3220FileInfo(frame: payload) else {
                return fail(exchange, .unexpectedReply("a file info reply of \(Self.count(received)) bytes, fewer than 8"))
            }
            guard info.exists else { return open(job) }
            return send(.eraseFile(name: job.file.name), reply: .none, then: .writing(job, .erasing))
        case .erasing:
            return queryStatus(of: .eraseFile, then: .writing(job, .erasingStatus))
        case .erasingStatus:
            return checkStatus(received, exchange) { machine in machine.open(job) }
        case .opening:
            return sendChunk(job, 0)
        case .chunk(let index):
            return queryStatus(of: .fileChunk, chunk: index, offset: index * CC3220Bootloader.maxFileChunk,
                               then: .writing(job, .chunkStatus(index)))
        case .chunkStatus(let index):
            return checkStatus(received, exchange) { machine in
                let done = min(job.file.data.count, (index + 1) * CC3220Bootloader.maxFileChunk)
                return [.progress(done: done, total: job.file.data.count)] + machine.sendChunk(job, index + 1)
            }
        case .closing:
            return queryStatus(of: .finishUpload, then: .writing(job, .closeStatus))
        case .closeStatus:
            guard let status = Self.status(received) else { return fail(exchange, .unexpectedReply("an empty status frame")) }
            if !status.isSuccess && job.file.signature == nil {
                return fail(exchange, .status(status.status, simpleLinkCode: status.simpleLinkCode))
            }
            return done(.wroteFile(name: job.file.name, size: job.file.data.count, close: status))
        }
    }

    private mutating func sendChunk(_ job: WriteJob, _ index: Int) -> [Action] {
        guard index < job.chunks else {
            return send(.finishUpload(job.file.finishUpload), reply: .none, then: .writing(job, .closing))
        }
        let start = index * CC3220Bootloader.maxFileChunk
        let end = min(job.file.data.count, start + CC3220Bootloader.maxFileChunk)
        return send(.fileChunk(offset: UInt32(start), data: Array(job.file.data[start..<end])), reply: .none,
                    chunk: index, offset: start, then: .writing(job, .chunk(index)))
    }

    private mutating func advanceRead(name: String, size: Int, _ step: ReadStep, _ exchange: Exchange, _ received: Received) -> [Action] {
        switch step {
        case .checking:
            guard case .frame(let payload) = received, let info = CC3220FileInfo(frame: payload) else {
                return fail(exchange, .unexpectedReply("a file info reply of \(Self.count(received)) bytes, fewer than 8"))
            }
            guard info.exists else { return fail(exchange, .refused("\(name) does not exist on the device")) }
            readBuffer.reserveCapacity(Int(info.size))
            return send(.startUpload(name: name, flags: .read), reply: .raw(4), then: .reading(name: name, size: Int(info.size), .opening))
        case .opening:
            return readChunk(name: name, size: size, 0)
        case .chunk(let index):
            let want = min(CC3220Bootloader.maxReadChunk, size - index * CC3220Bootloader.maxReadChunk)
            guard case .frame(let payload) = received, payload.count == want else {
                return fail(exchange, .unexpectedReply("\(Self.count(received)) bytes, not \(want)"))
            }
            readBuffer += payload
            return [.progress(done: readBuffer.count, total: size)] + readChunk(name: name, size: size, index + 1)
        case .closing:
            return queryStatus(of: .finishUpload, then: .reading(name: name, size: size, .closeStatus))
        case .closeStatus:
            return checkStatus(received, exchange) { machine in
                let data = machine.readBuffer
                machine.readBuffer = []
                return machine.done(.readFile(name: name, data: data))
            }
        }
    }

    private mutating func readChunk(name: String, size: Int, _ index: Int) -> [Action] {
        let start = index * CC3220Bootloader.maxReadChunk
        guard start < size else {
            return send(.finishUpload(.cc3200tool()), reply: .none, then: .reading(name: name, size: size, .closing))
        }
        let length = min(CC3220Bootloader.maxReadChunk, size - start)
        return send(.readFileChunk(offset: UInt32(start), length: UInt32(length)), reply: .frame, chunk: index, offset: start,
                    then: .reading(name: name, size: size, .chunk(index)))
    }

    private mutating func rawReadNext(_ job: RawJob, chunk: Int) -> [Action] {
        let start = chunk * CC3220Bootloader.maxRawRead
        guard start < job.length else {
            let data = readBuffer
            readBuffer = []
            return done(.rawRead(data))
        }
        let length = min(CC3220Bootloader.maxRawRead, job.length - start)
        return send(.rawStorageRead(storage: job.storage, offset: UInt32(job.offset + start), length: UInt32(length)),
                    reply: .frame, chunk: chunk, offset: job.offset + start, then: .rawReading(job, chunk: chunk))
    }

    private mutating func rawWriteNext(_ job: RawJob, chunk: Int) -> [Action] {
        let start = chunk * CC3220Bootloader.maxRawWrite
        guard start < job.length else { return done(.rawWritten(count: job.length)) }
        let end = min(job.length, start + CC3220Bootloader.maxRawWrite)
        return send(.rawStorageWrite(storage: job.storage, offset: UInt32(job.offset + start), data: Array(job.data[start..<end])),
                    reply: .none, chunk: chunk, offset: job.offset + start, then: .rawWriting(job, chunk: chunk))
    }

    // MARK: exchanges

    /// Sends a command and waits for its ACK (`timeout` s), then for its reply (`replyTimeout`, by default the same).
    private mutating func send(_ command: CC3220Command, reply: Reply, timeout: Double = CC3220HostStateMachine.defaultTimeout,
                               replyTimeout: Double? = nil, statusOf: CC3220Opcode? = nil, chunk: Int? = nil, offset: Int? = nil,
                               then step: Step) -> [Action] {
        let exchange = Exchange(opcode: command.opcode, statusOf: statusOf, reply: reply, ackTimeout: timeout,
                                replyTimeout: replyTimeout ?? timeout, chunk: chunk, offset: offset)
        state = .waiting(step, exchange)
        return [.write(command.frame), expect(.ack, timeout)]
    }

    /// GET_STATUS for the command just sent; its failure names that command, chunk and offset.
    private mutating func queryStatus(of opcode: CC3220Opcode, timeout: Double = CC3220HostStateMachine.defaultTimeout,
                                      chunk: Int? = nil, offset: Int? = nil, then step: Step) -> [Action] {
        send(.getStatus, reply: .frame, timeout: timeout, statusOf: opcode, chunk: chunk, offset: offset, then: step)
    }

    /// Goes on with `next` when GET_STATUS said 0x40; fails naming the command otherwise.
    private mutating func checkStatus(_ received: Received, _ exchange: Exchange,
                                      _ next: (inout CC3220HostStateMachine) -> [Action]) -> [Action] {
        guard let status = Self.status(received) else { return fail(exchange, .unexpectedReply("an empty status frame")) }
        guard status.isSuccess else {
            var subject = exchange
            subject.opcode = exchange.statusOf ?? exchange.opcode
            subject.statusOf = nil
            return fail(subject, .status(status.status, simpleLinkCode: status.simpleLinkCode))
        }
        return next(&self)
    }

    private mutating func breakAttempt(_ step: Step, reset: Bool) -> [Action] {
        decoder.reset()
        decoder.expecting = .ack
        state = .waiting(step, Exchange(opcode: nil, reply: .none, ackTimeout: Self.breakACKTimeout, replyTimeout: Self.breakACKTimeout))
        return [.enterBootloader(reset: reset), expect(.ack, Self.breakACKTimeout)]
    }

    private mutating func expect(_ expectation: CC3220FrameDecoder.Expectation, _ timeout: Double) -> Action {
        decoder.expecting = expectation
        return .expect(expectation, timeout: timeout)
    }

    private mutating func done(_ outcome: Outcome) -> [Action] {
        state = .idle
        return [.completed(outcome)]
    }

    private mutating func fail(_ exchange: Exchange, _ reason: CC3220Failure.Reason) -> [Action] {
        finish(.cc3220(CC3220Failure(opcode: exchange.opcode, statusOf: exchange.statusOf, chunk: exchange.chunk,
                                     offset: exchange.offset, reason: reason)))
    }

    private mutating func finish(_ error: FlashError, connected: Bool = true) -> [Action] {
        state = connected ? .idle : .disconnected
        readBuffer = []
        return [.failed(error)]
    }

    private static func status(_ received: Received) -> CC3220CloseStatus? {
        guard case .frame(let payload) = received else { return nil }
        return CC3220CloseStatus(statusFrame: payload)
    }

    private static func count(_ received: Received) -> Int {
        switch received {
        case .ack: 0
        case .frame(let bytes), .raw(let bytes): bytes.count
        }
    }

    private static func refusal(fileName name: String, _ opcode: CC3220Opcode) -> FlashError? {
        let count = name.utf8.count
        guard count == 0 || count > CC3220Bootloader.maxFileNameLength || name.utf8.contains(0) else { return nil }
        return .cc3220(CC3220Failure(opcode: opcode, reason: .refused(
            "the file name '\(name)' must be 1…\(CC3220Bootloader.maxFileNameLength) bytes without NUL")))
    }
}
