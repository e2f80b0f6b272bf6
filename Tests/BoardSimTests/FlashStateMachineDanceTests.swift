import BoardSim
import Crypto
import FlashProtocol
import Testing

/// The flasher's state machine wired to the simulated chip's, with no I/O at all: the machine's `send` frames go
/// into the loader, the loader's frames come back as `frameReceived`, and an armed timer fires when nothing is
/// left to deliver. `drop` loses requests on the way to the chip, to make faults.
struct MachineBench {
    typealias Machine = ESP32FlashStateMachine

    var machine = Machine()
    var loader: ESP32Loader
    var drop: ([UInt8]) -> Bool = { _ in false }
    /// Frames the chip sent that the machine has not had yet.
    private var inbox: [[UInt8]] = []
    private var timer: Double?
    /// Seconds that passed: only fired timers move it.
    private(set) var clock = 0.0
    private(set) var hostBaudRate = 115_200
    /// Every action but `send`, and every request's opcode, in order.
    private(set) var actions: [Machine.Action] = []
    private(set) var sent: [ROMOpcode] = []

    init(loader: ESP32Loader = ESP32Loader()) {
        self.loader = loader
    }

    mutating func run(_ operation: Machine.Operation) -> Result<Machine.Outcome, FlashError> {
        var next = machine.start(operation)
        while true {
            for action in next {
                switch action {
                case .send(let bytes, let command):
                    sent.append(command)
                    var decoder = SLIP.Decoder()
                    for frame in decoder.feed(bytes) where !drop(frame) {
                        for output in loader.receive(frame) {
                            if case .frame(let payload) = output { inbox.append(payload) }
                        }
                    }
                    continue
                case .setTimer(let seconds): timer = seconds
                case .setBaudRate(let rate): hostBaudRate = rate
                case .drain: inbox.removeAll()
                case .progress, .retrying: break
                case .done(let outcome):
                    actions.append(action)
                    timer = nil
                    return .success(outcome)
                case .failed(let error):
                    actions.append(action)
                    timer = nil
                    return .failure(error)
                }
                actions.append(action)
            }
            if !inbox.isEmpty {
                next = machine.frameReceived(inbox.removeFirst())
            } else if let seconds = timer {
                clock += seconds
                timer = nil
                next = machine.timeoutFired()
            } else {
                Issue.record("the machine waits with no timer and nothing to deliver")
                return .failure(.link("stuck"))
            }
        }
    }

    var retries: [(ROMOpcode, Int)] {
        actions.compactMap { if case .retrying(let command, let attempt, _) = $0 { (command, attempt) } else { nil } }
    }

    var progress: [Int] {
        actions.compactMap { if case .progress(let done, _) = $0 { done } else { nil } }
    }
}

func testImage(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    // Low nibbles only: compresses to about half, like firmware.
    return (0..<count).map { _ in UInt8.random(in: 0...15, using: &generator) }
}

@Suite("The flash state machine against the simulated loader, no I/O")
struct FlashStateMachineDanceTests {
    @Test("connect, attach, change baud, compressed write, MD5 and read back: the flash holds the image", arguments: [true, false])
    func dance(compress: Bool) throws {
        var bench = MachineBench()
        #expect(try bench.run(.connect(attempts: 7)).get() == .connected(magic: 0x00F0_1D83))
        #expect(try bench.run(.attachFlash(flashSize: ESP32FlashStateMachine.flashSize)).get() == .flashAttached(size: 4 * 1024 * 1024))
        #expect(try bench.run(.changeBaudRate(921_600)).get() == .baudRateChanged(921_600))
        #expect(bench.hostBaudRate == 921_600 && bench.loader.baudRate == 921_600)
        let image = testImage(50_000, seed: 11)
        #expect(try bench.run(.write(image: image, offset: 0x10000, compress: compress)).get() == .wrote(md5: Insecure.md5Hex(image)))
        #expect(Array(bench.loader.flash.read(offset: 0x10000, length: image.count)!) == image)
        #expect(bench.progress.last == image.count && bench.progress == bench.progress.sorted())
        #expect(bench.sent.contains(compress ? .flashDeflData : .flashData))
        #expect(try bench.run(.md5(offset: 0x10000, size: image.count)).get() == .md5(Insecure.md5Hex(image)))
        #expect(try bench.run(.read(offset: 0x10000 + 1000, length: 300)).get() == .read(Array(image[1000..<1300])))
        #expect(try bench.run(.runApplication).get() == .applicationStarted)
        // Nothing was lost, so nothing waited: no timer ever fired.
        #expect(bench.clock == 0 && bench.retries.isEmpty)
    }

    @Test("a lost data block is sent again after its timeout and the image still lands; a block never answered is named")
    func lostBlocks() throws {
        var bench = MachineBench()
        _ = try bench.run(.connect(attempts: 7)).get()
        var lost = 0
        // Lose the first try of block 2 and the first two of block 5.
        bench.drop = { frame in
            guard let request = try? ROMRequest(decoding: frame), request.opcode == ROMOpcode.flashDeflData.rawValue,
                  let block = request.word(1), block == 2 && lost == 0 || block == 5 && (1...2).contains(lost)
            else { return false }
            lost += 1
            return true
        }
        let image = testImage(20_000, seed: 12)
        #expect(try bench.run(.write(image: image, offset: 0x20000, compress: true)).get() == .wrote(md5: Insecure.md5Hex(image)))
        #expect(bench.retries.map(\.0) == [.flashDeflData, .flashDeflData, .flashDeflData])
        #expect(bench.retries.map(\.1) == [1, 1, 2])
        #expect(bench.clock == 9)

        bench.drop = { frame in (try? ROMRequest(decoding: frame)).map { $0.opcode == ROMOpcode.flashData.rawValue && $0.word(1) == 29 } ?? false }
        let result = bench.run(.write(image: testImage(40_000, seed: 13), offset: 0x10000, compress: false))
        #expect(result.error?.description == "block 29 at offset 0x17400 failed after 3 attempts: no answer to FLASH_DATA within 3 s")
        // The machine stays connected: the next operation may start.
        #expect(try bench.run(.md5(offset: 0x10000, size: 0x400)).get() == .md5(Insecure.md5Hex(Array(testImage(40_000, seed: 13).prefix(0x400)))))
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
