/// Which chip a simulated bootloader claims to be: its GET_VERSION_INFO replies before and after SWITCH_UART_TO_APPS
/// (reference §2.6, §7.2).
public struct CC3220DeviceIdentity: Equatable, Sendable {
    /// The name `--identity` takes.
    public var name: String
    public var versionBeforeSwitch: CC3220Version
    public var versionAfterSwitch: CC3220Version

    public init(name: String, versionBeforeSwitch: CC3220Version, versionAfterSwitch: CC3220Version) {
        self.name = name
        self.versionBeforeSwitch = versionBeforeSwitch
        self.versionAfterSwitch = versionAfterSwitch
    }

    /// A CC3200: bootloader (0,4,1,2) → (0,4,0,2), chip `10 00 00 00`; cc3200tool accepts it.
    public static let cc3200 = CC3220DeviceIdentity(name: "cc3200", versionBeforeSwitch: .cc3200(switched: false),
                                                   versionAfterSwitch: .cc3200(switched: true))
    /// A CC3220SF LaunchPad: bootloader (0,1,0,3) → (1,1,0,3), chip `19 30 00 00`; cc3200tool refuses it
    /// ("Unsupported device"), the AudigoLabs cc3220tool and mos take it.
    public static let cc3220sf = CC3220DeviceIdentity(name: "cc3220sf", versionBeforeSwitch: .cc3220sf(switched: false),
                                                     versionAfterSwitch: .cc3220sf(switched: true))
    public static let all = [cc3200, cc3220sf]

    /// The identity `--identity NAME` names, or nil.
    public init?(named name: String) {
        guard let found = Self.all.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    /// The version reply for one side of the switch.
    public func version(switched: Bool) -> CC3220Version { switched ? versionAfterSwitch : versionBeforeSwitch }
}

/// How the owner answers a `.handle(command)`: what goes on the line after the ACK, and the status the next
/// GET_STATUS reports.
public struct CC3220DeviceResponse: Equatable, Sendable {
    /// What follows the ACK.
    public enum Reply: Equatable, Sendable {
        /// Nothing (FILE_CHUNK, FORMAT, ERASE_FILE, RAW_STORAGE_WRITE/ERASE, FINISH_UPLOAD).
        case none
        /// A frame the host acknowledges (READ_FILE_CHUNK, RAW_STORAGE_READ, GET_FILE_INFO, GET_STORAGE_INFO, GET_MAC).
        case frame([UInt8])
        /// Raw bytes (GET_STORAGE_LIST's 1, START_UPLOAD's 4-byte token, FS_PROGRAMMING's 4-byte status).
        case raw([UInt8])
    }

    public var reply: Reply
    /// The status byte the next GET_STATUS reports (0x40 OK).
    public var status: UInt8
    /// A SimpleLink error code the next GET_STATUS adds as `[status][int32 BE]` (otarig extension, see
    /// `CC3220CloseStatus`); nil for the ordinary one-byte reply.
    public var simpleLinkCode: Int32?

    public init(reply: Reply, status: UInt8 = CC3220Status.ok.rawValue, simpleLinkCode: Int32? = nil) {
        self.reply = reply
        self.status = status
        self.simpleLinkCode = simpleLinkCode
    }

    /// No reply beyond the ACK; `status` for the next GET_STATUS.
    public static func status(_ status: UInt8 = CC3220Status.ok.rawValue, simpleLinkCode: Int32? = nil) -> Self {
        Self(reply: .none, status: status, simpleLinkCode: simpleLinkCode)
    }

    /// No reply beyond the ACK; `status` for the next GET_STATUS.
    public static func status(_ status: CC3220Status, simpleLinkCode: Int32? = nil) -> Self {
        Self(reply: .none, status: status.rawValue, simpleLinkCode: simpleLinkCode)
    }

    /// A framed reply.
    public static func frame(_ payload: [UInt8], status: UInt8 = CC3220Status.ok.rawValue) -> Self {
        Self(reply: .frame(payload), status: status)
    }

    /// A raw reply.
    public static func raw(_ bytes: [UInt8], status: UInt8 = CC3220Status.ok.rawValue) -> Self {
        Self(reply: .raw(bytes), status: status)
    }
}

/// The device side of the CC3200/CC3220 ROM UART bootloader, as a simulated board runs it: bytes and line events
/// in, bytes to send out (now or after a delay) and storage work for the owner (`.handle`), who answers with
/// `respond(_:)`. It owns no storage and no clock.
///
/// States: **boot** (not in the bootloader; bytes are ignored) → `breakDetected()` → **command mode**: the ACK goes
/// out `breakAnswerDelay` later; host frames are read, checked (a wrong checksum is dropped without an ACK), ACKed
/// and carried out. After a framed reply the machine waits for the host's ACK. After SWITCH_UART_TO_APPS the machine
/// answers as the application core (`identity.versionAfterSwitch`) and sends an unsolicited `00 CC`
/// `switchAnswerDelay` later, because on a pty the host's break never arrives (reference §0 #5, §7.2). Until the
/// first command after a break or a switch, another `breakDetected()` re-arms the ACK (debounce of open + flush, and
/// mos's flush after the switch); later breaks are ignored (whether a ROM in command mode answers one is unknown,
/// §8). `powerCycled()` returns to boot, not switched.
///
/// The machine answers GET_VERSION_INFO, GET_STATUS (the last command's status, then 0x40 again),
/// SWITCH_UART_TO_APPS and EXEC_FROM_RAM (ACK, then a second ACK `execSecondACKDelay` later) itself. An unknown
/// opcode is ACKed and sets status 0x41, a malformed command 0x42 (0x43 for RAW_STORAGE_WRITE, §7.2). Everything
/// else goes to the owner; the ACK is sent with the owner's answer, as a ROM ACKs an erase only once it is done
/// (cc3200tool waits `erase_timeout` for it).
public struct CC3220DeviceStateMachine: Sendable {
    // MARK: timing (reference §7.2)

    /// Seconds from a break to its ACK: at least 50–100 ms after the host's last flush, well within the 1 s every
    /// tool waits.
    public static let breakAnswerDelay = 0.1
    /// Seconds from SWITCH_UART_TO_APPS's ACK to the unsolicited ACK of the application core: after the host's
    /// sleep starts, before its 1 s read times out.
    public static let switchAnswerDelay = 0.3
    /// Seconds from EXEC_FROM_RAM's ACK to the second ACK ("once the RAM code is up", ~50 ms).
    public static let execSecondACKDelay = 0.05

    // MARK: events and actions

    /// What the owner does, in order.
    public enum Action: Equatable, Sendable {
        /// Send these bytes now.
        case send([UInt8])
        /// Arm the device's one send timer (replacing a send still pending) to send `bytes` after `seconds`.
        case sendAfter(seconds: Double, bytes: [UInt8])
        /// Carry out this storage or file command and answer with `respond(_:)`. Bytes that arrive meanwhile are
        /// kept and read after the answer.
        case handle(CC3220Command)
    }

    private enum State: Sendable {
        /// Not in the bootloader.
        case boot
        /// Command mode, reading host frames.
        case listening
        /// The owner carries out this command.
        case awaitingOwner(CC3220Command)
        /// A framed reply went out; the host's ACK is due.
        case awaitingHostACK
    }

    public let identity: CC3220DeviceIdentity
    private var state = State.boot
    private var decoder = CC3220FrameDecoder()
    private var lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
    private var acceptsBreak = false
    /// Whether the UART was switched to the application core since the last power cycle.
    public private(set) var isSwitched = false
    /// The last command read (for logs).
    public private(set) var lastCommand: CC3220Command?

    public init(identity: CC3220DeviceIdentity) {
        self.identity = identity
    }

    /// Whether the bootloader is in command mode (not booting the application).
    public var isInBootloader: Bool {
        if case .boot = state { return false }
        return true
    }

    /// Frames dropped for a wrong checksum since the last power cycle.
    public var droppedFrames: Int { decoder.droppedFrames }

    /// The host held a break (on a pty: the host flushed its input, reference §4.3). In boot, or before the first
    /// command after a break or a switch, the ACK goes out `breakAnswerDelay` later; otherwise it is ignored.
    public mutating func breakDetected() -> [Action] {
        switch state {
        case .boot:
            state = .listening
            acceptsBreak = true
        case .listening where acceptsBreak:
            break
        default:
            return []
        }
        decoder.reset()
        decoder.expecting = .frame
        return [.sendAfter(seconds: Self.breakAnswerDelay, bytes: CC3220Bootloader.ack)]
    }

    /// Bytes from the host. Ignored in boot.
    public mutating func bytesReceived(_ bytes: some Sequence<UInt8>) -> [Action] {
        guard isInBootloader else { return [] }
        decoder.append(bytes)
        return readBuffered()
    }

    /// The owner's answer to the last `.handle`. Traps when none is pending.
    public mutating func respond(_ response: CC3220DeviceResponse) -> [Action] {
        guard case .awaitingOwner = state else {
            preconditionFailure("CC3220DeviceStateMachine: respond(_:) with no command pending")
        }
        lastStatus = CC3220CloseStatus(status: response.status, simpleLinkCode: response.simpleLinkCode)
        let actions: [Action]
        switch response.reply {
        case .none:
            state = .listening
            actions = [.send(CC3220Bootloader.ack)]
        case .raw(let bytes):
            state = .listening
            actions = [.send(CC3220Bootloader.ack + bytes)]
        case .frame(let payload):
            actions = framedReply(payload)
        }
        return actions + readBuffered()
    }

    /// The chip lost power (on a pty: the host closed the port). Back to boot, not switched, the parser cleared;
    /// the owner drops a send still pending. Storage is the owner's and persists.
    public mutating func powerCycled() {
        state = .boot
        decoder = CC3220FrameDecoder()
        lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
        acceptsBreak = false
        isSwitched = false
        lastCommand = nil
    }

    // MARK: transitions

    private mutating func readBuffered() -> [Action] {
        var actions: [Action] = []
        while true {
            switch state {
            case .boot, .awaitingOwner: return actions
            case .listening, .awaitingHostACK: break
            }
            guard let item = decoder.next() else { return actions }
            switch item {
            case .ack, .raw:
                state = .listening
            case .frame(let payload):
                state = .listening
                acceptsBreak = false
                actions += dispatch(payload)
            }
        }
    }

    private mutating func dispatch(_ payload: [UInt8]) -> [Action] {
        let ack = Action.send(CC3220Bootloader.ack)
        switch CC3220Command.decode(payload) {
        case .empty, .unknownOpcode:
            lastStatus = CC3220CloseStatus(status: CC3220Status.unknownCommand.rawValue)
            return [ack]
        case .malformed(let opcode, _):
            let status: CC3220Status = opcode == .rawStorageWrite ? .invalidAddress : .invalidCommand
            lastStatus = CC3220CloseStatus(status: status.rawValue)
            return [ack]
        case .command(let command):
            lastCommand = command
            switch command {
            case .getStatus:
                let reply = lastStatus.statusFrame
                lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
                return framedReply(reply)
            case .getVersionInfo:
                lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
                return framedReply(identity.version(switched: isSwitched).encoded)
            case .switchUARTToApps:
                lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
                isSwitched = true
                acceptsBreak = true
                return [ack, .sendAfter(seconds: Self.switchAnswerDelay, bytes: CC3220Bootloader.ack)]
            case .execFromRAM:
                lastStatus = CC3220CloseStatus(status: CC3220Status.ok.rawValue)
                return [ack, .sendAfter(seconds: Self.execSecondACKDelay, bytes: CC3220Bootloader.ack)]
            default:
                state = .awaitingOwner(command)
                return [.handle(command)]
            }
        }
    }

    private mutating func framedReply(_ payload: [UInt8]) -> [Action] {
        state = .awaitingHostACK
        decoder.expecting = .hostACKOrFrame
        return [.send(CC3220Bootloader.ack + CC3220Bootloader.frame(payload))]
    }
}
