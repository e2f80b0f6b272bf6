import BoardSim
import Crypto
import FlashProtocol
import Foundation
import HILRunner
import Testing

// The simulated chip in memory is a transport: BoardSim does not import HILRunner, so the conformance lives here.
extension InMemoryLink: Transport {}

func words(_ values: UInt32...) -> [UInt8] { values.flatMap(LittleEndian.bytes) }

/// Test images that replay from their seed: odd seeds compress well (4 bits of noise), even ones barely.
func testImage(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33) & (seed % 2 == 0 ? 0xFF : 0x0F)
    }
}

/// The events a flasher reported, in order.
final class EventLog {
    var events: [FlashEvent] = []

    func attach(to flasher: ESP32Flasher) {
        flasher.onEvent = { [unowned self] in self.events.append($0) }
    }

    var wrote: [(location: FlashLocation, md5: String)] {
        events.compactMap { if case .wrote(_, let location, _, let md5, _) = $0 { (location, md5) } else { nil } }
    }

    var retriedSteps: [String] {
        events.compactMap { if case .retried(let step, _, _) = $0 { step } else { nil } }
    }
}

@Suite("The flasher against the simulated chip, in memory")
struct FlasherTests {
    @Test("connect, identify, write compressed and not, read back: the flash holds the image", arguments: [true, false])
    func write(compress: Bool) throws {
        let link = InMemoryLink()
        let flasher = ESP32Flasher(transport: link)
        try flasher.connect()
        #expect(try flasher.detectChip() == 0x00F0_1D83)
        try flasher.attachFlash()
        let image = testImage(10_000, seed: compress ? 1 : 2)
        try flasher.write(image, at: 0x10000, compress: compress)
        #expect(Array(link.loader.flash.read(offset: 0x10000, length: image.count)!) == image)
        #expect(try flasher.read(offset: 0x10000 + 100, length: 200) == Array(image[100..<300]))
    }

    @Test("with faults on the wire, every write either lands with a matching MD5 or fails naming the block; some land")
    func faults() throws {
        var landed = 0
        for seed in UInt64(1)...8 {
            let link = InMemoryLink(faults: .init(rate: 0.1, seed: seed))
            let flasher = ESP32Flasher(transport: link)
            let log = EventLog()
            log.attach(to: flasher)
            let image = testImage(60_000, seed: seed)
            do {
                try flasher.connect()
                try flasher.attachFlash()
                try flasher.write(image, at: 0x20000, compress: seed % 2 == 0)
                #expect(Array(link.loader.flash.read(offset: 0x20000, length: image.count)!) == image, "seed \(seed)")
                #expect(log.wrote.map(\.md5) == [Insecure.md5Hex(image)])
                landed += 1
            } catch let error {
                switch error {
                case .blockFailed(let index, let offset, let attempts, _):
                    #expect(offset == 0x20000 + index * 0x400)
                    #expect(attempts == 3)
                    // The two failed attempts before the last were reported as retries of that block.
                    #expect(log.retriedSteps.filter { $0.hasSuffix("_DATA") }.count >= 2)
                case .noAnswer, .syncFailed, .deviceError, .digestMismatch, .notAnESP32:
                    break  // a fault in a command outside the blocks: named by the command
                default:
                    Issue.record("seed \(seed): unexpected failure: \(error)")
                }
            }
            #expect(!link.injected.isEmpty, "seed \(seed) injected no fault")
        }
        // Retries are worth something: with a fault in one frame of ten, some writes still get through.
        #expect(landed > 0)
    }

    @Test("a wrong chip and a chip that never answers are named")
    func failures() throws {
        var loader = ESP32Loader()
        _ = loader.receive(ROMRequest(.writeReg, data: words(0x4000_1000, 0x7C6, 0xFFFF_FFFF, 0)).encoded)
        let flasher = ESP32Flasher(transport: InMemoryLink(loader: loader))
        #expect(throws: FlashError.notAnESP32(magic: 0x7C6)) { try flasher.connect() }
        let silent = ESP32Flasher(transport: InMemoryLink(faults: .init(rate: 1_000, seed: 9)))
        #expect(throws: FlashError.syncFailed(attempts: 7)) { try silent.connect() }
    }

    @Test("every step is reported: connected, attached, baud, progress up to the size, wrote with its MD5 and wire time, verified, read, started")
    func events() throws {
        let link = InMemoryLink()
        let flasher = ESP32Flasher(transport: link)
        let log = EventLog()
        log.attach(to: flasher)
        let image = FlashImage(name: "app.bin", location: .offset(0x10000), bytes: testImage(5000, seed: 3))
        try flasher.connect()
        try flasher.attachFlash()
        try flasher.changeBaudRate(921_600)
        try flasher.write(image, compress: true)
        try flasher.verify(image)
        _ = try flasher.read(.offset(0x10000), length: 100)
        try flasher.runApplication()
        let md5 = Insecure.md5Hex(image.bytes)
        let progress = log.events.compactMap { if case .progress("app.bin", let done, 5000) = $0 { done } else { nil } }
        #expect(progress.last == 5000 && progress == progress.sorted())
        let steps = log.events.filter { if case .progress = $0 { false } else { true } }
        #expect(steps.count == 7)
        #expect(steps.first == .connected(chip: "ESP32 (magic 0xf01d83)"))
        #expect(steps[1] == .flashAttached(size: 4 * 1024 * 1024))
        #expect(steps[2] == .baudRateChanged(921_600))
        guard case .wrote("app.bin", .offset(0x10000), 5000, md5, let seconds) = steps[3] else {
            Issue.record("not a write: \(steps[3])")
            return
        }
        // The in-memory chip answers at once: the write costs no time on the virtual clock.
        #expect(seconds == 0)
        #expect(steps[4] == .verified(name: "app.bin", location: .offset(0x10000), size: 5000, md5: md5))
        #expect(steps[5] == .read(location: .offset(0x10000), size: 100))
        #expect(steps[6] == .applicationStarted)
        #expect(link.loader.events.last?.detail == "run user code")
    }

    @Test("a file location is unsupported on the ESP32, and a verify against other bytes names both digests")
    func unsupportedAndMismatch() throws {
        let flasher = ESP32Flasher(transport: InMemoryLink())
        try flasher.connect()
        let file = FlashImage(name: "cert", location: .file("/certs/codesign.der"), bytes: [1])
        #expect(throws: FlashError.unsupported("write cert to the file '/certs/codesign.der': the ESP32's ROM loader addresses raw flash offsets")) {
            try flasher.write(file, compress: false)
        }
        let other = FlashImage(name: "app.bin", location: .offset(0x10000), bytes: [1, 2, 3])
        #expect(throws: FlashError.digestMismatch(offset: 0x10000, size: 3, expected: Insecure.md5Hex([1, 2, 3]), device: Insecure.md5Hex([0xFF, 0xFF, 0xFF]))) {
            try flasher.verify(other)
        }
    }

    @Test("a block that never gets an answer fails after 3 attempts with the message users read")
    func blockMessage() throws {
        // A chip that answers everything except FLASH_DATA for block 29.
        final class Deaf: Transport {
            let inner = InMemoryLink()
            var name: String { "deaf" }
            var now: Double { inner.now }
            func send(_ bytes: [UInt8]) throws {
                var decoder = SLIP.Decoder()
                if let frame = decoder.feed(bytes).first, let request = try? ROMRequest(decoding: frame),
                   request.opcode == ROMOpcode.flashData.rawValue, request.word(1) == 29 { return }
                try inner.send(bytes)
            }
            func receive(timeout: Double) -> [UInt8] { inner.receive(timeout: timeout) }
            func setBaudRate(_ rate: Int) throws {}
            func setLines(dtr: Bool, rts: Bool) -> Bool { false }
            func sendBreak(seconds: Double) -> Bool { false }
            func sleep(seconds: Double) { inner.sleep(seconds: seconds) }
        }
        let flasher = ESP32Flasher(transport: Deaf())
        try flasher.connect()
        do {
            try flasher.write(testImage(40_000, seed: 2), at: 0x10000, compress: false)
            Issue.record("the write went through")
        } catch {
            #expect(error.description == "block 29 at offset 0x17400 failed after 3 attempts: no answer to FLASH_DATA within 3 s")
        }
    }
}

@Suite("OTA staging over the loader")
struct StagingTests {
    static func board() -> ESP32Loader {
        var flash = NORFlash()
        flash.program(offset: PartitionTable.offset, PartitionTable.twoOTAWithStaging.encoded)
        return ESP32Loader(flash: flash)
    }

    static func connected(_ link: InMemoryLink) throws -> ESP32Flasher {
        let flasher = ESP32Flasher(transport: link)
        try flasher.connect()
        return flasher
    }

    @Test("the image goes to the slot after the one otadata selects, the job to the staging partition")
    func stage() throws {
        let link = InMemoryLink(loader: Self.board())
        let flasher = try Self.connected(link)
        let image = [UInt8](repeating: 0x42, count: 5000)
        let job = OTAStaging.Job(slot: "", size: 0, jobDocument: #"{"afr_ota":{}}"#, certificates: ["codesign.crt": "PEM"])
        let first = try flasher.stageOTA(image: image, job: job)
        #expect(first.label == "ota_1")
        #expect(Array(link.loader.flash.read(offset: 0x190000, length: image.count)!) == image)
        let record = try #require(OTAStaging.decode(link.loader.flash.read(offset: 0x310000, length: 0x1000)!))
        let staged = try JSONDecoder().decode(OTAStaging.Job.self, from: Data(record))
        #expect(staged.slot == "ota_1" && staged.size == image.count && staged.certificates == job.certificates)

        // With otadata selecting ota_1 (sequence 2), the next update goes to ota_0.
        var flash = Self.board().flash
        flash.program(offset: 0xD000, OTASelectEntry(sequence: 2, state: .valid).encoded)
        let second = try Self.connected(InMemoryLink(loader: ESP32Loader(flash: flash))).stageOTA(image: image, job: job)
        #expect(second.label == "ota_0")
    }

    @Test("through the Flasher capability: staged into ota_1, reported with the update's name")
    func stageUpdate() throws {
        let link = InMemoryLink(loader: Self.board())
        let flasher = try Self.connected(link)
        let log = EventLog()
        log.attach(to: flasher)
        let update = OTAUpdate(name: "signed.bin", image: [UInt8](repeating: 7, count: 3000), jobDocument: Array(#"{"afr_ota":{}}"#.utf8),
                               certificates: ["codesign.crt": Array("-----BEGIN CERTIFICATE-----".utf8)])
        let staged = try flasher.stage(update, compress: true)
        #expect(staged == StagedUpdate(location: "ota_1", offset: 0x190000))
        #expect(log.events.last == .staged(name: "signed.bin", staged))
        // Progress is the image's only: the table, otadata and the staging record are not a progress bar's business.
        #expect(log.events.allSatisfy { if case .progress(let name, _, let total) = $0 { name == "signed.bin" && total == 3000 } else { true } })
    }

    @Test("a chip without the table is refused before anything is written")
    func refused() throws {
        let blank = InMemoryLink()
        #expect(throws: FlashError.layout("the chip's partition table: no partition table at 0x8000 (the sector is erased); flash a table with the OTA slots and an 'otastage' data partition first")) {
            try Self.connected(blank).stageOTA(image: [1, 2, 3], job: .init(slot: "", size: 0, jobDocument: "", certificates: [:]))
        }
        #expect(!blank.loader.flashDirty)
    }

    @Test("an image bigger than the slot is staged as far as the slot reaches, with the whole image's size in the job")
    func oversized() throws {
        let link = InMemoryLink(loader: Self.board())
        let oversized = [UInt8](repeating: 0x5a, count: 0x180001)
        let empty = OTAStaging.Job(slot: "", size: 0, jobDocument: "{}", certificates: [:])
        let slot = try Self.connected(link).stageOTA(image: oversized, job: empty)
        #expect(slot.label == "ota_1" && slot.size == 0x180000)
        let flash = link.loader.flash
        #expect(flash.read(offset: 0x190000, length: 0x180000).map(Array.init) == [UInt8](repeating: 0x5a, count: 0x180000))
        // The byte past the slot is otastage's, untouched by the image.
        #expect(flash.read(offset: 0x310000, length: 4).map(Array.init) == OTAStaging.magic)
        let record = try #require(flash.read(offset: 0x310000, length: 0x10000).flatMap { OTAStaging.decode($0) })
        let job = try JSONDecoder().decode(OTAStaging.Job.self, from: Data(record))
        #expect(job.size == 0x180001 && job.slot == "ota_1")
    }
}
