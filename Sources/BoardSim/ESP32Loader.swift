import Crypto
import FlashProtocol

/// The ESP32's serial download mode as the real esptool needs it (esptool's serial-protocol documentation,
/// docs.espressif.com, esptool ‘Serial Protocol’; espressif/esptool `esptool/loader.py`; and what esptool 5.6 was
/// measured here to send): the ROM loader, and the flasher stub esptool uploads into RAM. A pure state machine: request
/// frames in, what the chip sends back out. The pty, the reset lines and the boot are the `SimulatedESP32`'s; this
/// holds the registers and the flash.
public struct ESP32Loader: Sendable {
    public enum Mode: String, Sendable {
        case rom
        case stub
    }

    /// What the chip does in answer to a frame.
    public enum Output: Equatable, Sendable {
        /// A SLIP frame's payload.
        case frame([UInt8])
        /// FLASH_END / FLASH_DEFL_END asked to leave the loader and run the application in flash.
        case runUserCode
        /// FLASH_END from the stub asked for a reboot: the chip restarts into the ROM loader.
        case reboot
    }

    /// One line per command, for `otarig sim --verbose` and the tests; `takeEvents` empties the list.
    public struct Event: Equatable, Sendable {
        public var mode: Mode
        public var opcode: UInt8
        public var detail: String
    }

    public private(set) var mode: Mode = .rom
    public private(set) var flash: NORFlash
    public private(set) var registers: [UInt32: UInt32]
    public private(set) var baudRate = 115_200
    public private(set) var events: [Event] = []
    /// Whether anything was programmed or erased since `markFlashSaved()`.
    public private(set) var flashDirty = false

    private var write: WriteState?
    private var read: ReadState?

    struct WriteState {
        var offset: Int
        var blocks: Int
        var blockSize: Int
        var size: Int
        var nextSequence = 0
        var written = 0
        var inflater: Zlib.Inflater?
    }

    struct ReadState {
        var data: [UInt8]
        var packetSize: Int
        var inFlight: Int
        var sent = 0
        var acknowledged = 0
    }

    // MARK: the chip's identity (ESP32-D0WD-V3, revision v3.0, 40 MHz crystal, MAC 24:0a:c4:12:34:56)

    public static let chipMagicRegister: UInt32 = 0x4000_1000
    public static let spiBase: UInt32 = 0x3FF4_2000
    static let spiCommand = spiBase + 0x00
    static let spiAddress = spiBase + 0x04
    static let spiUser = spiBase + 0x1C
    static let spiUser1 = spiBase + 0x20
    static let spiUser2 = spiBase + 0x24
    static let spiW0 = spiBase + 0x80
    /// JEDEC id of a Winbond 4 MiB part (W25Q32): manufacturer EF, type 40, capacity 16.
    public static let jedecID: UInt32 = 0x16_40EF

    static let initialRegisters: [UInt32: UInt32] = [
        chipMagicRegister: 0x00F0_1D83,
        0x3FF5_A000: 0,  // eFuse word 0: flash encryption count
        0x3FF5_A004: 0xC412_3456,  // eFuse word 1: MAC low
        0x3FF5_A008: 0x0000_240A,  // eFuse word 2: MAC high (CRC byte 0)
        0x3FF5_A00C: 0x0000_8200,  // eFuse word 3: package D0WD (1 << 9), revision bit 0 (1 << 15)
        0x3FF5_A010: 0x0000_0060,  // eFuse word 4: CK8M frequency for the ROM's crystal estimate
        0x3FF5_A014: 0x0010_0000,  // eFuse word 5: revision bit 1
        0x3FF5_A018: 0,  // eFuse word 6: secure boot / download encryption off
        0x3FF6_607C: 0x8000_0000 | 0x1605_1906,  // APB_CTL_DATE: revision bit 2
        0x3FF4_0014: 347,  // UART_CLKDIV: 115200 × 347 ≈ 40 MHz
        0x3FF5_F06C: 1067 << 7,  // RTC calibration: 1067 × 15625 × 96 / 40 ≈ 40 MHz
    ]

    public init(flash: NORFlash = NORFlash()) {
        self.flash = flash
        registers = Self.initialRegisters
    }

    public mutating func markFlashSaved() { flashDirty = false }

    /// The events since the last call, so a long-running simulator keeps none it has already logged.
    public mutating func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// The flash after the firmware ran on it.
    public mutating func replaceFlash(_ flash: NORFlash) {
        if flash != self.flash { flashDirty = true }
        self.flash = flash
    }

    /// A reset into download mode: the ROM loader again, no transfer in progress.
    public mutating func resetIntoLoader() {
        mode = .rom
        write = nil
        read = nil
        baudRate = 115_200
        registers = Self.initialRegisters
    }

    var statusLength: Int { mode == .rom ? 4 : 2 }

    // MARK: frames in, frames out

    /// Handles one received frame (a request, or during a stub READ_FLASH the host's acknowledgement).
    public mutating func receive(_ frame: [UInt8]) -> [Output] {
        if read != nil, frame.count == 4 {
            return acknowledgeRead(LittleEndian.uint32(frame, at: 0))
        }
        guard let request = try? ROMRequest(decoding: frame) else {
            note(0, "dropped a frame that is not a request (\(frame.count) bytes)")
            return []
        }
        guard let opcode = ROMOpcode(rawValue: request.opcode) else {
            return [.frame(failure(request.opcode, error: mode == .rom ? .invalidMessage : .invalidCommand))]
        }
        switch opcode {
        case .sync: return sync(request)
        case .readReg: return readRegister(request)
        case .writeReg: return writeRegisters(request)
        case .spiAttach, .spiSetParams: return parameters(request, opcode)
        case .changeBaudrate:
            guard let new = request.word(0) else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
            baudRate = Int(new)
            note(request.opcode, "baud \(new)")
            return [.frame(success(request.opcode))]
        case .flashBegin, .flashDeflBegin: return begin(request, compressed: opcode == .flashDeflBegin)
        case .flashData, .flashDeflData: return data(request, compressed: opcode == .flashDeflData)
        case .flashEnd, .flashDeflEnd: return end(request)
        case .spiFlashMD5: return md5(request)
        case .readFlashSlow: return readSlow(request)
        case .memBegin, .memData, .memEnd: return memory(request, opcode)
        case .getSecurityInfo:
            // Not in the ESP32 ROM: the unsupported-command answer, so esptool falls back to the magic register.
            return [.frame(failure(request.opcode, error: mode == .rom ? .invalidMessage : .invalidCommand))]
        case .eraseFlash, .eraseRegion, .readFlash, .runUserCode:
            guard mode == .stub else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
            return stubCommand(request, opcode)
        }
    }

    private mutating func note(_ opcode: UInt8, _ detail: String) {
        events.append(Event(mode: mode, opcode: opcode, detail: detail))
    }

    private func success(_ opcode: UInt8, value: UInt32 = 0, data: [UInt8] = []) -> [UInt8] {
        ROMResponse(opcode: opcode, value: value, data: data + [UInt8](repeating: 0, count: statusLength)).encoded
    }

    private func failure(_ opcode: UInt8, error: ROMErrorCode) -> [UInt8] {
        ROMResponse(opcode: opcode, data: [0x01, error.rawValue] + [UInt8](repeating: 0, count: statusLength - 2)).encoded
    }

    // MARK: commands

    private mutating func sync(_ request: ROMRequest) -> [Output] {
        guard request.data == ROMRequest.syncPayload else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
        note(request.opcode, "")
        if mode == .stub { return [.frame(success(request.opcode))] }
        // The ROM answers every SYNC eight times.
        return Array(repeating: .frame(success(request.opcode, value: 0x2012_0707)), count: 8)
    }

    private mutating func readRegister(_ request: ROMRequest) -> [Output] {
        guard let address = request.word(0) else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
        let value = registers[address] ?? 0
        note(request.opcode, "0x\(String(address, radix: 16)) = 0x\(String(value, radix: 16))")
        return [.frame(success(request.opcode, value: value))]
    }

    private mutating func writeRegisters(_ request: ROMRequest) -> [Output] {
        guard !request.data.isEmpty, request.data.count % 16 == 0 else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
        for index in 0..<request.data.count / 16 {
            let address = request.word(index * 4)!, value = request.word(index * 4 + 1)!, mask = request.word(index * 4 + 2)!
            registers[address] = (registers[address] ?? 0) & ~mask | value & mask
            note(request.opcode, "0x\(String(address, radix: 16)) := 0x\(String(value, radix: 16))")
            if address == Self.spiCommand, value & (1 << 18) != 0 { runSPICommand() }
        }
        return [.frame(success(request.opcode))]
    }

    /// The SPI0 "user command" esptool runs through registers: RDID answers the JEDEC id, SFDP the signature at
    /// address 0; the command bit clears when done.
    private mutating func runSPICommand() {
        let command = (registers[Self.spiUser2] ?? 0) & 0xFF
        let user = registers[Self.spiUser] ?? 0
        var address: UInt32 = 0
        if user & (1 << 30) != 0 {
            let bits = ((registers[Self.spiUser1] ?? 0) >> 26 & 0x3F) + 1
            address = bits >= 32 ? registers[Self.spiAddress] ?? 0 : (registers[Self.spiAddress] ?? 0) >> (32 - bits)
        }
        switch command {
        case 0x9F: registers[Self.spiW0] = Self.jedecID
        case 0x5A: registers[Self.spiW0] = address == 0 ? 0x5044_4653 : 0
        default: registers[Self.spiW0] = 0
        }
        registers[Self.spiCommand] = (registers[Self.spiCommand] ?? 0) & ~UInt32(1 << 18)
    }

    private mutating func parameters(_ request: ROMRequest, _ opcode: ROMOpcode) -> [Output] {
        if opcode == .spiSetParams {
            guard let total = request.word(1) else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
            note(request.opcode, "flash size \(total)")
        } else {
            // The ROM takes the pin word and 4 more bytes; the stub the pin word alone.
            guard request.data.count == (mode == .rom ? 8 : 4) else { return [.frame(failure(request.opcode, error: mode == .rom ? .invalidMessage : .badDataLength))] }
            note(request.opcode, "")
        }
        return [.frame(success(request.opcode))]
    }

    private mutating func begin(_ request: ROMRequest, compressed: Bool) -> [Output] {
        let words = mode == .rom ? 4 : 5
        guard request.data.count == words * 4, let size = request.word(0), let blocks = request.word(1),
              let blockSize = request.word(2), let offset = request.word(3)
        else { return [.frame(failure(request.opcode, error: mode == .rom ? .invalidMessage : .badDataLength))] }
        guard Int(offset) + Int(size) <= flash.size, blockSize > 0, blockSize <= 0x4000 else {
            note(request.opcode, "refused: 0x\(String(offset, radix: 16)) + \(size) leaves the \(flash.size)-byte flash")
            return [.frame(failure(request.opcode, error: mode == .rom ? .failedToAct : .failedSPIOperation))]
        }
        if size > 0 {
            flash.erase(offset: Int(offset), length: Int(size))
            flashDirty = true
        }
        write = WriteState(offset: Int(offset), blocks: Int(blocks), blockSize: Int(blockSize), size: Int(size),
                           inflater: compressed ? try? Zlib.Inflater() : nil)
        note(request.opcode, "offset 0x\(String(offset, radix: 16)), \(size) bytes, \(blocks) blocks of \(blockSize)")
        return [.frame(success(request.opcode))]
    }

    private mutating func data(_ request: ROMRequest, compressed: Bool) -> [Output] {
        let currentMode = mode, opcode = request.opcode, statusLength = statusLength
        let romError: (ROMErrorCode, ROMErrorCode) -> [Output] = { rom, stub in
            [.frame(ROMResponse(opcode: opcode, data: [0x01, (currentMode == .rom ? rom : stub).rawValue] + [UInt8](repeating: 0, count: statusLength - 2)).encoded)]
        }
        guard var state = write, (state.inflater != nil) == compressed else { return romError(.failedToAct, .notInFlashMode) }
        guard request.data.count >= 16, let length = request.word(0), let sequence = request.word(1),
              Int(length) == request.data.count - 16
        else { return romError(.invalidMessage, .badDataLength) }
        let payload = Array(request.data[16...])
        guard ROMRequest.checksum(payload) == request.checksum & 0xFF, request.checksum <= 0xFF else {
            note(request.opcode, "block \(sequence): checksum mismatch")
            return romError(.invalidCRC, .badDataChecksum)
        }
        if Int(sequence) == state.nextSequence - 1 {
            // The host resent a block whose answer it lost: acknowledge without writing twice.
            note(request.opcode, "block \(sequence) again")
            return [.frame(success(request.opcode))]
        }
        guard Int(sequence) == state.nextSequence, sequence < state.blocks else { return romError(.failedToAct, .notInFlashMode) }
        let bytes: [UInt8]
        if let inflater = state.inflater {
            do {
                bytes = try inflater.inflate(payload)
            } catch {
                return romError(.deflateError, .inflateError)
            }
        } else {
            bytes = payload
        }
        let at = state.offset + (compressed ? state.written : Int(sequence) * state.blockSize)
        guard flash.program(offset: at, bytes) else { return romError(.flashWriteError, .failedSPIOperation) }
        flashDirty = true
        state.written += bytes.count
        state.nextSequence += 1
        write = state
        note(request.opcode, "block \(sequence): \(bytes.count) bytes at 0x\(String(at, radix: 16))")
        return [.frame(success(request.opcode))]
    }

    /// FLASH_END's word is esptool's `int(not reboot)`: 0 reboots the chip (back into the ROM loader, since the
    /// strapping pins still select download mode); 1 makes the ROM leave the loader and run the application, while
    /// the stub, which cannot, stays where it is.
    private mutating func end(_ request: ROMRequest) -> [Output] {
        let flag = request.word(0) ?? 1
        write = nil
        if flag == 0 {
            note(request.opcode, "reboot")
            return [.frame(success(request.opcode)), .reboot]
        }
        if mode == .stub {
            note(request.opcode, "stay in the stub")
            return [.frame(success(request.opcode))]
        }
        note(request.opcode, "run user code")
        return [.frame(success(request.opcode)), .runUserCode]
    }

    private mutating func md5(_ request: ROMRequest) -> [Output] {
        guard let address = request.word(0), let size = request.word(1),
              let bytes = flash.read(offset: Int(address), length: Int(size))
        else { return [.frame(failure(request.opcode, error: mode == .rom ? .invalidMessage : .failedSPIOperation))] }
        note(request.opcode, "0x\(String(address, radix: 16)) + \(size)")
        // The ROM answers in ASCII hex, the stub with the 16 raw bytes.
        let answer = mode == .rom ? Array(Insecure.md5Hex(Array(bytes)).utf8) : Array(Insecure.MD5.hash(data: bytes))
        return [.frame(success(request.opcode, data: answer))]
    }

    private mutating func readSlow(_ request: ROMRequest) -> [Output] {
        guard mode == .rom, let offset = request.word(0), let length = request.word(1), length <= 64,
              let bytes = flash.read(offset: Int(offset), length: Int(length))
        else { return [.frame(failure(request.opcode, error: .invalidMessage))] }
        note(request.opcode, "0x\(String(offset, radix: 16)) + \(length)")
        return [.frame(success(request.opcode, data: Array(bytes) + [UInt8](repeating: 0xFF, count: 64 - Int(length))))]
    }

    private mutating func memory(_ request: ROMRequest, _ opcode: ROMOpcode) -> [Output] {
        switch opcode {
        case .memBegin:
            note(request.opcode, "\(request.word(0) ?? 0) bytes at 0x\(String(request.word(3) ?? 0, radix: 16))")
            return [.frame(success(request.opcode))]
        case .memData:
            guard request.data.count >= 16, ROMRequest.checksum(request.data[16...]) == request.checksum else {
                return [.frame(failure(request.opcode, error: mode == .rom ? .invalidCRC : .badDataChecksum))]
            }
            return [.frame(success(request.opcode))]
        default:
            // MEM_END with an entry point: the uploaded flasher stub starts and says hello.
            note(request.opcode, "entry 0x\(String(request.word(1) ?? 0, radix: 16)): the flasher stub runs")
            let answer = success(request.opcode)
            mode = .stub
            return [.frame(answer), .frame(Array("OHAI".utf8))]
        }
    }

    private mutating func stubCommand(_ request: ROMRequest, _ opcode: ROMOpcode) -> [Output] {
        switch opcode {
        case .eraseFlash:
            flash.erase(offset: 0, length: flash.size)
            flashDirty = true
            note(request.opcode, "whole chip")
            return [.frame(success(request.opcode))]
        case .eraseRegion:
            guard let offset = request.word(0), let size = request.word(1), offset % 0x1000 == 0, size % 0x1000 == 0,
                  flash.erase(offset: Int(offset), length: Int(size))
            else { return [.frame(failure(request.opcode, error: .failedSPIOperation))] }
            flashDirty = true
            note(request.opcode, "0x\(String(offset, radix: 16)) + \(size)")
            return [.frame(success(request.opcode))]
        case .readFlash:
            guard let offset = request.word(0), let length = request.word(1), let packet = request.word(2), let inFlight = request.word(3),
                  packet > 0, inFlight > 0, let bytes = flash.read(offset: Int(offset), length: Int(length))
            else { return [.frame(failure(request.opcode, error: .failedSPIOperation))] }
            note(request.opcode, "0x\(String(offset, radix: 16)) + \(length)")
            read = ReadState(data: Array(bytes), packetSize: Int(packet), inFlight: Int(inFlight))
            return [.frame(success(request.opcode))] + sendReadPackets()
        default:
            note(request.opcode, "run user code")
            return [.runUserCode]
        }
    }

    /// The stub's READ_FLASH: data packets while fewer than `inFlight` are unacknowledged, then the MD5.
    private mutating func sendReadPackets() -> [Output] {
        guard var state = read else { return [] }
        var out: [Output] = []
        while state.sent < state.data.count, (state.sent - state.acknowledged) < state.inFlight * state.packetSize {
            let end = min(state.data.count, state.sent + state.packetSize)
            out.append(.frame(Array(state.data[state.sent..<end])))
            state.sent = end
        }
        read = state
        return out
    }

    private mutating func acknowledgeRead(_ total: UInt32) -> [Output] {
        guard var state = read else { return [] }
        state.acknowledged = max(state.acknowledged, Int(total))
        read = state
        if state.acknowledged >= state.data.count {
            read = nil
            return [.frame(Array(Insecure.MD5.hash(data: state.data)))]
        }
        return sendReadPackets()
    }
}
