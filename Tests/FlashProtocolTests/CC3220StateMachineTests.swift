import FlashProtocol
import Testing

// MARK: - the device machine on its own, byte for byte

@Suite("CC3220 device state machine, byte by byte")
struct CC3220DeviceMachineTests {
    /// A device in command mode (break answered, its delayed ACK taken as sent).
    func commandMode(_ identity: CC3220DeviceIdentity = .cc3200) -> CC3220DeviceStateMachine {
        var device = CC3220DeviceStateMachine(identity: identity)
        _ = device.breakDetected()
        return device
    }

    /// Feeds `bytes` one at a time and gathers what the device sends right away.
    func drip(_ device: inout CC3220DeviceStateMachine, _ bytes: [UInt8]) -> [CC3220DeviceStateMachine.Action] {
        bytes.flatMap { device.bytesReceived([$0]) }
    }

    @Test("boot ignores bytes; a break is answered 0.1 s later, re-armed by another break before the first command, then ignored")
    func breakHandling() {
        var device = CC3220DeviceStateMachine(identity: .cc3200)
        #expect(device.bytesReceived(hex("00 03 2F 2F")) == [])
        #expect(!device.isInBootloader)
        #expect(device.breakDetected() == [.sendAfter(seconds: 0.1, bytes: [0x00, 0xCC])])
        #expect(device.breakDetected() == [.sendAfter(seconds: 0.1, bytes: [0x00, 0xCC])])
        _ = device.bytesReceived(hex("00 03 23 23") + hex("00 CC"))
        #expect(device.breakDetected() == [])
    }

    @Test("GET_VERSION for both identities, before and after SWITCH_UART, fed one byte at a time")
    func versionsAcrossTheSwitch() {
        let replies: [(CC3220DeviceIdentity, [UInt8], [UInt8])] = [
            (.cc3200, hex("00 1E 17 00 04 01 02") + zeros(12) + hex("10 00 00 00") + zeros(8),
             hex("00 1E 16 00 04 00 02") + zeros(12) + hex("10 00 00 00") + zeros(8)),
            (.cc3220sf, hex("00 1E 4D 00 01 00 03") + zeros(12) + hex("19 30 00 00") + zeros(8),
             hex("00 1E 4E 01 01 00 03") + zeros(12) + hex("19 30 00 00") + zeros(8)),
        ]
        for (identity, before, after) in replies {
            var device = commandMode(identity)
            #expect(drip(&device, hex("00 03 2F 2F")) == [.send(hex("00 CC") + before)], "\(identity.name)")
            #expect(drip(&device, hex("00 CC")) == [])
            #expect(drip(&device, hex("00 07 5B 33 01 96 E6 AB"))
                == [.send(hex("00 CC")), .sendAfter(seconds: 0.3, bytes: hex("00 CC"))])
            #expect(device.isSwitched)
            // mos flushes after the switch: a break before any command is answered again.
            #expect(device.breakDetected() == [.sendAfter(seconds: 0.1, bytes: hex("00 CC"))])
            #expect(drip(&device, hex("00 03 2F 2F")) == [.send(hex("00 CC") + after)], "\(identity.name)")
            device.powerCycled()
            #expect(!device.isInBootloader && !device.isSwitched)
        }
        #expect(CC3220DeviceIdentity(named: "cc3220sf") == .cc3220sf && CC3220DeviceIdentity(named: "esp32") == nil)
    }

    @Test("GET_STATUS returns the last status then 0x40; an unknown opcode sets 0x41, a malformed command 0x42")
    func statuses() {
        var device = commandMode()
        #expect(drip(&device, hex("00 03 23 23")) == [.send(hex("00 CC 00 03 40 40"))])
        _ = drip(&device, hex("00 CC"))
        #expect(drip(&device, hex("00 03 99 99")) == [.send(hex("00 CC"))])
        #expect(drip(&device, hex("00 03 23 23")) == [.send(hex("00 CC 00 03 41 41"))])
        _ = drip(&device, hex("00 CC"))
        #expect(drip(&device, hex("00 03 23 23")) == [.send(hex("00 CC 00 03 40 40"))])
        _ = drip(&device, hex("00 CC"))
        #expect(drip(&device, hex("00 04 2F 2F 00")) == [.send(hex("00 CC"))])  // GET_VERSION with a stray byte
        #expect(drip(&device, hex("00 03 23 23")) == [.send(hex("00 CC 00 03 42 42"))])
    }

    @Test("E2E 453689's frame with a bad checksum gets no ACK; the same frame with 0x5B does")
    func badChecksumNotAcknowledged() {
        var device = commandMode()
        #expect(drip(&device, hex("00 07 AB 33 01 96 E6 AB")) == [])
        #expect(device.droppedFrames == 1 && !device.isSwitched)
        #expect(drip(&device, hex("00 07 5B 33 01 96 E6 AB")).first == .send(hex("00 CC")))
    }

    @Test("EXEC_FROM_RAM: an ACK, then a second ACK 50 ms later")
    func execFromRAM() {
        var device = commandMode()
        #expect(drip(&device, hex("00 03 32 32")) == [.send(hex("00 CC")), .sendAfter(seconds: 0.05, bytes: hex("00 CC"))])
    }

    @Test("storage commands go to the owner; its answers go out after the ACK: raw list byte, framed info, token")
    func ownerAnswers() {
        var device = commandMode()
        #expect(drip(&device, hex("00 03 27 27")) == [.handle(.getStorageList)])
        #expect(device.respond(.raw([0x84])) == [.send(hex("00 CC 84"))])
        #expect(drip(&device, hex("00 07 31 31 00 00 00 00")) == [.handle(.getStorageInfo(storage: .sram))])
        #expect(device.respond(.frame(CC3220StorageInfo(blockSize: 0x1000, blockCount: 16).encoded))
            == [.send(hex("00 CC 00 0A 20 10 00 00 10 00 00 00 00"))])
        _ = drip(&device, hex("00 CC"))
        let open = hex("00 1C C7 21 00000000 00000000") + mcuimg + [0, 0]
        #expect(drip(&device, open) == [.handle(.startUpload(name: "/sys/mcuimg.bin", flags: .read))])
        // A host that pipelines its next frame while the owner works: the frame waits for the answer.
        #expect(device.bytesReceived(hex("00 03 23 23")) == [])
        #expect(device.respond(.raw([1, 2, 3, 4])) == [.send(hex("00 CC 01 02 03 04")), .send(hex("00 CC 00 03 40 40"))])
        // FS_PROGRAMMING's raw status.
        _ = drip(&device, hex("00 CC"))
        let program = CC3220Command.fsProgramming(key: [], chunk: zeros(4096)).frame
        #expect(drip(&device, program) == [.handle(.fsProgramming(key: [], chunk: zeros(4096)))])
        #expect(device.respond(.raw(hex("00 00 10 00"))) == [.send(hex("00 CC 00 00 10 00"))])
    }

    @Test("a failed signed close reports the status and, as otarig's extension, the SimpleLink code in a 5-byte frame")
    func failedClose() {
        var device = commandMode()
        let close = CC3220Command.finishUpload(CC3220FinishUpload(certificateName: "/cert/ca", signature: zeros(256))).frame
        #expect(drip(&device, close).count == 1)
        #expect(device.respond(.status(.flashFail, simpleLinkCode: -10289)) == [.send(hex("00 CC"))])
        #expect(drip(&device, hex("00 03 23 23")) == [.send(hex("00 CC") + CC3220Bootloader.frame(hex("44 FFFFD7CF")))])
    }
}

// MARK: - host machine against device machine, in memory

/// The owner of a simulated device: a tiny file store, SRAM and serial flash. It carries out what the device
/// machine hands over, as reference §7.2's table says.
struct TinyStore {
    struct File: Equatable { var data: [UInt8]; var flags: CC3220OpenFlags }
    struct OpenFile { var name: String; var flags: CC3220OpenFlags; var data: [UInt8] }

    var files: [String: File] = [:]
    var open: OpenFile?
    var sram = [UInt8](repeating: 0, count: 16 * 4096)
    var serialFlash = [UInt8](repeating: 0xFF, count: 1024 * 4096)
    var commands: [CC3220Command] = []
    /// The certificate the store takes a close's slot to name when it verifies a signature.
    var certificates: Set<String> = ["/cert/dummy-root-ca-cert"]

    /// The test's stand-in for RSA: a good signature is 256 bytes of a running sum of the data.
    static func signature(for data: [UInt8]) -> [UInt8] {
        let sum = data.reduce(UInt8(0), &+)
        return (0..<256).map { UInt8(truncatingIfNeeded: $0) &+ sum }
    }

    mutating func handle(_ command: CC3220Command) -> CC3220DeviceResponse {
        commands.append(command)
        switch command {
        case .getStorageList:
            return .raw([0x84])
        case .getStorageInfo(let storage):
            switch storage {
            case .sram: return .frame(CC3220StorageInfo(blockSize: 0x1000, blockCount: 16).encoded)
            case .serialFlash: return .frame(CC3220StorageInfo(blockSize: 0x1000, blockCount: 1024).encoded)
            default: return .status(.invalidAddress)
            }
        case .format:
            files = [:]
            return .status()
        case .getFileInfo(let name):
            let file = files[name]
            return .frame(CC3220FileInfo(exists: file != nil, size: UInt32(file?.data.count ?? 0),
                                         maximumSize: UInt32(file?.flags.allocation ?? 0)).encoded)
        case .startUpload(let name, let flags, _):
            if flags == .read {
                guard let file = files[name] else { return .raw([0, 0, 0, 0], status: CC3220Status.flashFail.rawValue) }
                open = OpenFile(name: name, flags: flags, data: file.data)
            } else {
                open = OpenFile(name: name, flags: flags, data: [])
            }
            return .raw([0x12, 0x34, 0x56, 0x78])
        case .fileChunk(let offset, let data):
            guard var file = open, file.flags != .read, Int(offset) == file.data.count,
                  file.data.count + data.count <= file.flags.allocation else { return .status(.flashFail) }
            file.data += data
            open = file
            return .status()
        case .readFileChunk(let offset, let length):
            guard let file = open, file.flags == .read, Int(offset) + Int(length) <= file.data.count else { return .status(.flashFail) }
            return .frame(Array(file.data[Int(offset)..<Int(offset + length)]))
        case .finishUpload(let close):
            guard let file = open else { return .status(.flashFail) }
            open = nil
            guard file.flags != .read else { return .status() }
            if file.flags.isSignedSecure {
                guard certificates.contains(close.certificateName ?? "/cert/dummy-root-ca-cert") else {
                    return .status(.flashFail, simpleLinkCode: -10372)  // WRONG_CERTIFICATE_FILE_NAME
                }
                guard close.signature == Self.signature(for: file.data) else {
                    return .status(.flashFail, simpleLinkCode: -10289)  // WRONG_SIGNATURE_SECURITY_ALERT
                }
            }
            files[file.name] = File(data: file.data, flags: file.flags)
            return .status()
        case .eraseFile(let name):
            return files.removeValue(forKey: name) == nil ? .status(.flashFail) : .status()
        case .rawStorageRead(let storage, let offset, let length):
            let memory = storage == .sram ? sram : serialFlash
            guard Int(offset) + Int(length) <= memory.count else { return .status(.invalidAddress) }
            return .frame(Array(memory[Int(offset)..<Int(offset + length)]))
        case .rawStorageWrite(let storage, let offset, let data):
            let size = storage == .sram ? sram.count : serialFlash.count
            guard data.count <= CC3220Bootloader.maxRawWrite, Int(offset) + data.count <= size else { return .status(.invalidAddress) }
            if storage == .sram {
                sram.replaceSubrange(Int(offset)..<(Int(offset) + data.count), with: data)
            } else {
                serialFlash.replaceSubrange(Int(offset)..<(Int(offset) + data.count), with: data)
            }
            return .status()
        case .rawStorageErase(let storage, let startBlock, let blockCount):
            let range = Int(startBlock) * 4096..<Int(startBlock + blockCount) * 4096
            guard storage == .serialFlash, range.upperBound <= serialFlash.count else { return .status(.invalidAddress) }
            serialFlash.replaceSubrange(range, with: [UInt8](repeating: 0xFF, count: range.count))
            return .status()
        default:
            return .status(.unknownCommand)
        }
    }
}

/// A host machine and a device machine wired back to back, with a virtual clock: the line has no latency, timers
/// fire in time order, the device's delayed sends included.
struct Bench {
    var host = CC3220HostStateMachine()
    var device: CC3220DeviceStateMachine
    var store = TinyStore()
    var now = 0.0
    /// Changes what the host writes before the device reads it (a corrupted byte on the line).
    var corrupt: ((inout [UInt8]) -> Void)?
    /// Whether breaks reach the device (false: a board that is not in the bootloader, or the wrong port).
    var breaksReachDevice = true
    /// A real application core: it answers only the host's break, never with the simulator's unasked 00 CC.
    var realApplicationCore = false
    private var droppedUnaskedACK = false
    private(set) var hostActions: [CC3220HostStateMachine.Action] = []
    private(set) var hostFrames: [[UInt8]] = []

    private var hostTimer: Double?
    private var deviceTimer: (at: Double, bytes: [UInt8])?
    private var toDevice: [UInt8] = []
    private var toHost: [UInt8] = []
    private var result: Result<CC3220HostStateMachine.Outcome, FlashError>?

    init(_ identity: CC3220DeviceIdentity) {
        device = CC3220DeviceStateMachine(identity: identity)
    }

    /// Runs one operation to its end; returns its outcome or its failure.
    mutating func run(_ operation: CC3220HostStateMachine.Operation) -> Result<CC3220HostStateMachine.Outcome, FlashError> {
        result = nil
        hostActions = []
        hostFrames = []
        handleHost(host.start(operation))
        while true {
            if !toDevice.isEmpty {
                let bytes = toDevice
                toDevice = []
                handleDevice(device.bytesReceived(bytes))
            } else if !toHost.isEmpty {
                let bytes = toHost
                toHost = []
                handleHost(host.bytesReceived(bytes))
            } else if let result {
                return result
            } else if let deviceTimer, deviceTimer.at <= (hostTimer ?? .infinity) {
                now = deviceTimer.at
                self.deviceTimer = nil
                toHost += deviceTimer.bytes
            } else if let hostTimer {
                now = hostTimer
                self.hostTimer = nil
                handleHost(host.timeoutFired())
            } else {
                Issue.record("the bench is stuck: no bytes, no timer, no result")
                return .failure(.link("stuck"))
            }
        }
    }

    /// Runs an operation that must succeed.
    mutating func perform(_ operation: CC3220HostStateMachine.Operation) throws -> CC3220HostStateMachine.Outcome {
        try run(operation).get()
    }

    private mutating func handleHost(_ actions: [CC3220HostStateMachine.Action]) {
        hostActions += actions
        for action in actions {
            switch action {
            case .write(var bytes):
                if bytes != CC3220Bootloader.ack { hostFrames.append(bytes) }
                corrupt?(&bytes)
                toDevice += bytes
            case .enterBootloader(let reset):
                toHost = []  // the flush
                guard breaksReachDevice else { continue }
                if reset {
                    device.powerCycled()
                    deviceTimer = nil
                }
                handleDevice(device.breakDetected())
            case .delay(let seconds), .expect(_, let seconds):
                hostTimer = now + seconds
            case .progress, .retrying:
                break
            case .completed(let outcome):
                hostTimer = nil
                result = .success(outcome)
            case .failed(let error):
                hostTimer = nil
                result = .failure(error)
            }
        }
    }

    private mutating func handleDevice(_ actions: [CC3220DeviceStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                toHost += bytes
            case .sendAfter(let seconds, let bytes):
                if realApplicationCore, !droppedUnaskedACK, case .switchUARTToApps? = device.lastCommand {
                    droppedUnaskedACK = true
                    continue
                }
                deviceTimer = (now + seconds, bytes)
            case .handle(let command):
                handleDevice(device.respond(store.handle(command)))
            }
        }
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

@Suite("CC3220 host machine against the device machine")
struct CC3220HostDeviceTests {
    /// Connected, identified and switched, as `otarig flash` starts.
    func ready(_ identity: CC3220DeviceIdentity = .cc3200) throws -> Bench {
        var bench = Bench(identity)
        #expect(try bench.perform(.connect) == .connected)
        #expect(try bench.perform(.identify) == .identified(identity.versionBeforeSwitch))
        #expect(try bench.perform(.switchToApplicationCore) == .switchedToApplicationCore)
        return bench
    }

    @Test("connect, identify and switch for both identities; the application core answers with its own version", arguments: CC3220DeviceIdentity.all)
    func connectIdentifySwitch(identity: CC3220DeviceIdentity) throws {
        var bench = Bench(identity)
        #expect(try bench.perform(.connect) == .connected)
        #expect(bench.now == 0.1)
        guard case .identified(let version) = try bench.perform(.identify) else { Issue.record("not identified"); return }
        #expect(version == identity.versionBeforeSwitch && version.needsApplicationSwitch)
        let started = bench.now
        #expect(try bench.perform(.switchToApplicationCore) == .switchedToApplicationCore)
        // The simulated application core's unasked 00 CC, 0.3 s after the switch, ends the host's pause early.
        #expect(abs(bench.now - started - 0.3) < 1e-9)
        #expect(bench.hostFrames == [hex("00 07 5B 33 01 96 E6 AB")])
        #expect(try bench.perform(.identify) == .identified(identity.versionAfterSwitch))
        #expect(try bench.perform(.getStorageList) == .storageList([.serialFlash, .sram]))
        #expect(try bench.perform(.getStorageInfo(.serialFlash)) == .storageInfo(CC3220StorageInfo(blockSize: 4096, blockCount: 1024)))
        #expect(bench.device.droppedFrames == 0 && bench.host.droppedFrames == 0)
    }

    @Test("a real application core answers only the break: the host pauses 1 s, flushes, breaks, and the ACK comes 0.1 s later")
    func switchToARealCore() throws {
        var bench = Bench(.cc3220sf)
        bench.realApplicationCore = true
        #expect(try bench.perform(.connect) == .connected)
        _ = try bench.perform(.identify)
        let started = bench.now
        #expect(try bench.perform(.switchToApplicationCore) == .switchedToApplicationCore)
        #expect(abs(bench.now - started - 1.1) < 1e-9)
        #expect(bench.hostActions.contains(.enterBootloader(reset: false)))
        #expect(try bench.perform(.identify) == .identified(CC3220DeviceIdentity.cc3220sf.versionAfterSwitch))
    }

    @Test("no ACK to five breaks fails the connect, naming the attempts; the owner saw four retries")
    func connectFails() {
        var bench = Bench(.cc3200)
        bench.breaksReachDevice = false
        let result = bench.run(.connect)
        #expect(result == .failure(.cc3220(CC3220Failure(opcode: nil, reason: .noBreakACK(attempts: 5)))))
        #expect(bench.hostActions.filter { if case .retrying = $0 { true } else { false } }.count == 4)
        #expect(bench.now == 10.0)
        #expect(!bench.host.isIdle)
    }

    @Test("format 4 MiB sends 1024 blocks and clears the files")
    func format() throws {
        var bench = try ready()
        bench.store.files["/old"] = TinyStore.File(data: [1], flags: .read)
        #expect(try bench.perform(.format(size: 4 * 1024 * 1024)) == .formatted(blockCount: 1024))
        #expect(bench.store.commands.last == .format(blockCount: 1024))
        #expect(bench.store.files.isEmpty)
        #expect(bench.hostFrames == [CC3220Command.format(blockCount: 1024).frame, hex("00 03 23 23")])
    }

    @Test("write 70 000 bytes then read them back equal; flags 0x00003145, 18 chunks each followed by GET_STATUS")
    func writeThenRead() throws {
        var bench = try ready()
        let data = randomBytes(70_000, seed: 0xCC32_2001)
        let wrote = try bench.perform(.writeFile(CC3220FileWrite(name: "/sys/mcuimg.bin", data: data)))
        #expect(wrote == .wroteFile(name: "/sys/mcuimg.bin", size: 70_000, close: CC3220CloseStatus(status: 0x40)))
        #expect(bench.store.files["/sys/mcuimg.bin"]?.data == data)
        #expect(bench.store.files["/sys/mcuimg.bin"]?.flags.rawValue == 0x0000_3145)
        let opcodes = bench.hostFrames.map { $0[3] }
        let chunkPairs: [UInt8] = Array([[UInt8]](repeating: [0x24, 0x23], count: 18).joined())
        let expected: [UInt8] = [0x2A, 0x21] + chunkPairs + [0x22, 0x23]
        #expect(opcodes == expected)
        #expect(bench.hostFrames.last(where: { $0[3] == 0x22 })?.count == 324)  // cc3200tool's unsigned close
        let read = try bench.perform(.readFile(name: "/sys/mcuimg.bin"))
        #expect(read == .readFile(name: "/sys/mcuimg.bin", data: data))
        #expect(bench.hostFrames.filter { $0[3] == 0x2B }.count == 18)
        // A second write erases the file first, as cc3200tool does.
        _ = try bench.perform(.writeFile(CC3220FileWrite(name: "/sys/mcuimg.bin", data: Array(data.prefix(10)))))
        #expect(Array(bench.hostFrames.map { $0[3] }.prefix(4)) == [0x2A, 0x2E, 0x23, 0x21])
        #expect(bench.store.files["/sys/mcuimg.bin"]?.data == Array(data.prefix(10)))
    }

    @Test("a signed write the device accepts: flags 0x00233145, the certificate name in the slot, status 0x40")
    func signedWriteAccepted() throws {
        var bench = try ready()
        let data = randomBytes(70_000, seed: 0xCC32_2002)
        let file = CC3220FileWrite(name: "/sys/mcuimg.bin", data: data, signature: TinyStore.signature(for: data),
                                   certificateName: "/cert/dummy-root-ca-cert")
        #expect(try bench.perform(.writeFile(file)) == .wroteFile(name: "/sys/mcuimg.bin", size: 70_000, close: CC3220CloseStatus(status: 0x40)))
        #expect(bench.store.files["/sys/mcuimg.bin"]?.flags.rawValue == 0x0023_3145)
        let close = try #require(bench.store.commands.last { $0.opcode == .finishUpload })
        guard case .finishUpload(let payload) = close else { return }
        #expect(payload.certificateName == "/cert/dummy-root-ca-cert" && payload.tail == TinyStore.signature(for: data))
        #expect(bench.hostFrames.last(where: { $0[3] == 0x22 })?.count == 3 + 1 + 63 + 256)
    }

    @Test("a signed write the device refuses completes with its verdict: 0x44 and SimpleLink -10289; the file is not kept")
    func signedWriteRefused() throws {
        var bench = try ready()
        let data = randomBytes(5000, seed: 0xCC32_2003)
        var bad = TinyStore.signature(for: data)
        bad[7] ^= 0x01
        let outcome = try bench.perform(.writeFile(CC3220FileWrite(name: "/sys/mcuimg.bin", data: data, signature: bad)))
        #expect(outcome == .wroteFile(name: "/sys/mcuimg.bin", size: 5000, close: CC3220CloseStatus(status: 0x44, simpleLinkCode: -10289)))
        #expect(bench.store.files["/sys/mcuimg.bin"] == nil)
        // The host stays usable.
        #expect(try bench.perform(.getFileInfo(name: "/sys/mcuimg.bin")) == .fileInfo(CC3220FileInfo(exists: false, size: 0)))
    }

    @Test("erase a file, then it no longer exists; erasing it again fails naming ERASE_FILE and status 0x44")
    func erase() throws {
        var bench = try ready()
        _ = try bench.perform(.writeFile(CC3220FileWrite(name: "/cert/a", data: [1, 2, 3])))
        #expect(try bench.perform(.eraseFile(name: "/cert/a")) == .erasedFile(name: "/cert/a"))
        #expect(try bench.perform(.getFileInfo(name: "/cert/a")) == .fileInfo(CC3220FileInfo(exists: false, size: 0)))
        #expect(bench.run(.eraseFile(name: "/cert/a")) == .failure(.cc3220(CC3220Failure(opcode: .eraseFile, reason: .status(0x44, simpleLinkCode: nil)))))
        #expect(bench.run(.readFile(name: "/cert/a"))
            == .failure(.cc3220(CC3220Failure(opcode: .getFileInfo, reason: .refused("/cert/a does not exist on the device")))))
    }

    @Test("raw write at BTL_sflash's offset in 4080-byte chunks (each with GET_STATUS), raw read back, raw erase to 0xFF")
    func raw() throws {
        var bench = try ready()
        let data = randomBytes(10_000, seed: 0xCC32_2004)
        #expect(try bench.perform(.rawWrite(storage: .serialFlash, offset: 33 * 4096 + 8, data: data)) == .rawWritten(count: 10_000))
        #expect(bench.hostFrames.map { $0.count } == [3 + 13 + 4080, 4, 3 + 13 + 4080, 4, 3 + 13 + 1840, 4])
        #expect(Array(bench.hostFrames[0][3..<16]) == hex("2D 00000002 00021008 00000FF0"))
        #expect(try bench.perform(.rawRead(storage: .serialFlash, offset: 33 * 4096 + 8, length: 10_000)) == .rawRead(data))
        #expect(bench.hostFrames.count == 3)
        #expect(try bench.perform(.rawErase(storage: .serialFlash, startBlock: 33, blockCount: 3)) == .rawErased)
        #expect(bench.hostFrames.first == hex("00 0F 56 30 00000002 00000021 00000003"))
        #expect(try bench.perform(.rawRead(storage: .serialFlash, offset: 33 * 4096, length: 3 * 4096))
            == .rawRead([UInt8](repeating: 0xFF, count: 3 * 4096)))
        // A write past the end: the device says 0x43 for the chunk, and the failure names it.
        let failure = bench.run(.rawWrite(storage: .sram, offset: 16 * 4096 - 4080, data: zeros(5000)))
        #expect(failure == .failure(.cc3220(CC3220Failure(opcode: .rawStorageWrite, chunk: 1, offset: 16 * 4096,
                                                          reason: .status(0x43, simpleLinkCode: nil)))))
    }

    @Test("exec from RAM: the ACK, then the second ACK 50 ms later")
    func execFromRAM() throws {
        var bench = try ready()
        let started = bench.now
        #expect(try bench.perform(.execFromRAM) == .executedFromRAM)
        #expect(abs(bench.now - started - 0.05) < 1e-9)
    }

    @Test("a corrupted byte in FILE_CHUNK 5: the device drops the frame, the host times out naming FILE_CHUNK, chunk 5, offset 0x5000")
    func corruptedChunk() throws {
        var bench = try ready()
        var chunks = 0
        bench.corrupt = { bytes in
            guard bytes.count > 4, bytes[3] == 0x24 else { return }
            if chunks == 5 { bytes[100] ^= 0x10 }
            chunks += 1
        }
        let data = randomBytes(70_000, seed: 0xCC32_2005)
        let started = bench.now
        let result = bench.run(.writeFile(CC3220FileWrite(name: "/sys/mcuimg.bin", data: data, eraseFirst: false)))
        let failure = CC3220Failure(opcode: .fileChunk, chunk: 5, offset: 5 * 4096, reason: .noAnswer(awaiting: "ACK", seconds: 5))
        #expect(result == .failure(.cc3220(failure)))
        #expect(FlashError.cc3220(failure).description == "FILE_CHUNK (chunk 5 at offset 0x5000): no ACK within 5 s")
        #expect(bench.device.droppedFrames == 1)
        #expect(abs(bench.now - started - 5) < 1e-9)
        #expect(bench.host.isIdle)
    }

    @Test("a GET_STATUS whose reply is lost names the command it followed")
    func lostStatusReply() throws {
        var bench = try ready()
        bench.corrupt = { bytes in
            if bytes == hex("00 03 23 23") { bytes = hex("00 03 23 24") }
        }
        let result = bench.run(.format(size: 1024 * 1024))
        #expect(result == .failure(.cc3220(CC3220Failure(opcode: .getStatus, statusOf: .format, reason: .noAnswer(awaiting: "ACK", seconds: 10)))))
        #expect(FlashError.cc3220(CC3220Failure(opcode: .getStatus, statusOf: .format, reason: .noAnswer(awaiting: "ACK", seconds: 10))).description
            == "GET_STATUS after FORMAT: no ACK within 10 s")
    }

    @Test("the host drip-fed one byte at a time reads the same replies")
    func dripFedHost() throws {
        var host = CC3220HostStateMachine()
        _ = host.start(.connect)
        #expect(host.bytesReceived([0x00]) == [])
        #expect(host.bytesReceived([0xCC]) == [.completed(.connected)])
        let start = host.start(.identify)
        #expect(start == [.write(hex("00 03 2F 2F")), .expect(.ack, timeout: 5)])
        let reply = hex("00 CC") + CC3220Bootloader.frame(CC3220Version.cc3220sf(switched: false).encoded)
        var actions: [CC3220HostStateMachine.Action] = []
        for byte in reply { actions += host.bytesReceived([byte]) }
        #expect(actions == [.expect(.frame, timeout: 5), .write(hex("00 CC")), .completed(.identified(.cc3220sf(switched: false)))])
        // GET_STORAGE_LIST's raw byte has cc3200tool's 0.5 s.
        #expect(host.start(.getStorageList) == [.write(hex("00 03 27 27")), .expect(.ack, timeout: 5)])
        #expect(host.bytesReceived(hex("00 CC")) == [.expect(.raw(count: 1), timeout: 0.5)])
        #expect(host.bytesReceived(hex("84")) == [.completed(.storageList([.serialFlash, .sram]))])
        // Connect's first attempt: flush, break with reset, 2 s for the ACK.
        var fresh = CC3220HostStateMachine()
        #expect(fresh.start(.connect) == [.enterBootloader(reset: true), .expect(.ack, timeout: 2)])
    }

    @Test("bad inputs are refused before anything is sent")
    func refusals() throws {
        var bench = try ready()
        let long = String(repeating: "a", count: 181)
        #expect(bench.run(.getFileInfo(name: long)) == .failure(.cc3220(CC3220Failure(opcode: .getFileInfo, reason: .refused(
            "the file name '\(long)' must be 1…180 bytes without NUL")))))
        let huge = CC3220FileWrite(name: "/big", data: [], allocation: 255 * 65536 + 1)
        guard case .failure(.cc3220(let failure)) = bench.run(.writeFile(huge)) else { Issue.record("not refused"); return }
        #expect(failure.opcode == .startUpload)
        #expect(bench.hostFrames.isEmpty)
    }
}
