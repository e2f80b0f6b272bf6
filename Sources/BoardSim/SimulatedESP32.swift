import DurableFiles
import FlashProtocol
import Foundation
import OTAVerifier
import SerialIO

/// A simulated ESP32 on a pseudo-terminal: the ROM loader (and flasher stub) that the real esptool and
/// `otarig flash` talk to, over a 4 MiB NOR flash kept in a file between runs.
public final class SimulatedESP32: @unchecked Sendable {
    public let pty: PseudoTerminal
    public private(set) var loader: ESP32Loader
    public let flashPath: String?
    /// Pace the answers at the loader's baud rate, as a real UART would (10 bits per byte).
    public var simulateBaudRate = false
    /// A rate to simulate whatever CHANGE_BAUDRATE says (nil: the loader's current rate).
    public var fixedBaudRate: Int?
    var wireRate: Int { max(fixedBaudRate ?? loader.baudRate, 1200) }
    private var decoder = SLIP.Decoder()
    private let log: @Sendable (String) -> Void
    public var verbose = false
    /// Gets every console line the simulated firmware prints (the pty gets them too).
    public var console: (@Sendable (String) -> Void)?
    /// The job-document key the simulated firmware's OTA PAL reads (the board file's `firmware.signature-key`).
    public var signatureKey = "sig-sha256-ecdsa"
    /// The device policy the simulated firmware enforces (the board file's `policy:`); empty: the stock PAL.
    public var policy: Set<DevicePolicyCheck> = []

    // MARK: the auto-reset circuit

    /// DTR and RTS as the host drives them (true = asserted, the line low).
    public private(set) var dtr = false
    public private(set) var rts = false
    /// EN (chip enable) is low while RTS is asserted and DTR is not; IO0 is low while DTR is asserted and RTS is not.
    public var chipEnabled: Bool { !(rts && !dtr) }
    public var io0Low: Bool { dtr && !rts }
    private var held = false

    /// When EN rose: IO0 is sampled a moment later, as the EN line's RC delay does on a real board, so a host
    /// that sets DTR and clears RTS one call after the other still lands in download mode.
    private var enRoseAt: Double?
    public static let enRiseDelay = 0.02

    /// The host changed the modem lines (under umockdev, or through the control channel). EN falling holds the
    /// chip in reset; EN rising starts it, into download mode when IO0 is low a moment later, else the application.
    public func setLines(dtr: Bool, rts: Bool, at now: Double = MonotonicClock.now) {
        let wasEnabled = chipEnabled
        self.dtr = dtr
        self.rts = rts
        if verbose { log("lines: DTR=\(dtr ? 1 : 0) RTS=\(rts ? 1 : 0) -> EN \(chipEnabled ? "high" : "low"), IO0 \(io0Low ? "low" : "high")") }
        if wasEnabled && !chipEnabled {
            held = true
            enRoseAt = nil
            log("reset: EN low, the chip is held in reset")
        } else if !wasEnabled && chipEnabled {
            enRoseAt = now
        }
    }

    /// Starts the chip once the EN rise has settled.
    public func settleReset(at now: Double = MonotonicClock.now) {
        guard let rose = enRoseAt, now - rose >= Self.enRiseDelay else { return }
        enRoseAt = nil
        held = false
        decoder = SLIP.Decoder()
        if io0Low {
            log("reset: EN rose with IO0 low: boot into download mode")
            saveIfChanged()
            loader.resetIntoLoader()
            send(Array(Self.romBanner.utf8))
        } else {
            log("reset: EN rose with IO0 high: boot the application")
            bootApplication()
        }
    }

    /// Seeded faults on received frames: the frame is lost, a bit in it flips, or the answer comes late.
    public var faults: Faults? {
        didSet { random = SplitMix64(seed: faults?.seed ?? 0) }
    }
    private var random = SplitMix64(seed: 0)

    public typealias Faults = SimulatorFaults

    public static let romBanner = "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public convenience init(flashPath: String?, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        try self.init(flashPath: flashPath, pty: try PseudoTerminal(), log: log)
    }

    public init(flashPath: String?, pty: PseudoTerminal, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        var flash = NORFlash()
        var fresh = true
        if let flashPath, FileManager.default.fileExists(atPath: flashPath) {
            fresh = false
            guard let data = FileManager.default.contents(atPath: flashPath) else {
                throw Failure(description: "cannot read the flash file '\(flashPath)'")
            }
            guard data.count <= flash.size else {
                throw Failure(description: "the flash file '\(flashPath)' is \(data.count) bytes; the simulated chip has \(flash.size)")
            }
            flash = NORFlash(contents: Array(data))
        }
        if fresh {
            // A board as it leaves the factory: the two-OTA partition table with the staging area, nothing else.
            flash.program(offset: PartitionTable.offset, PartitionTable.twoOTAWithStaging.encoded)
        }
        loader = ESP32Loader(flash: flash)
        self.flashPath = flashPath
        self.log = log
        self.pty = pty
        pty.write(Array(Self.romBanner.utf8))
    }

    /// Serves the port until `shouldStop` says so, saving the flash whenever the line goes quiet after a change.
    public func run(shouldStop: () -> Bool, control: (() -> [(dtr: Bool, rts: Bool)])? = nil) {
        while !shouldStop() {
            for lines in control?() ?? [] { setLines(dtr: lines.dtr, rts: lines.rts) }
            settleReset()
            let bytes = pty.read(timeoutMilliseconds: control == nil ? 100 : 5)
            if held || enRoseAt != nil { continue }  // a chip in reset hears nothing
            if bytes.isEmpty {
                saveIfChanged()
                continue
            }
            if simulateBaudRate {
                // The bytes took their time on the wire too (10 bits each at the chip's current rate).
                Thread.sleep(forTimeInterval: Double(bytes.count * 10) / Double(wireRate))
            }
            for received in decoder.feed(bytes) {
                var frame = received
                if let faults, random.chance(faults.rate) {
                    switch random.next() % 3 {
                    case 0:
                        log("fault: lost a \(frame.count)-byte frame")
                        continue
                    case 1:
                        let bit = Int(random.next() % UInt64(frame.count * 8))
                        frame[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
                        log("fault: flipped bit \(bit) of a \(frame.count)-byte frame")
                    default:
                        log("fault: answering \(faults.delay) s late")
                        Thread.sleep(forTimeInterval: faults.delay)
                    }
                }
                for output in loader.receive(frame) {
                    switch output {
                    case .frame(let payload): send(SLIP.encode(payload))
                    case .runUserCode:
                        bootApplication()
                    case .reboot:
                        saveIfChanged()
                        loader.resetIntoLoader()
                        send(Array(Self.romBanner.utf8))
                    }
                }
                logEvents()
            }
        }
        // Line changes the harness sent just before stopping us still happen.
        for lines in control?() ?? [] { setLines(dtr: lines.dtr, rts: lines.rts) }
        if enRoseAt != nil { settleReset(at: .infinity) }
        saveIfChanged()
    }

    /// Leaves download mode: the bootloader and the application run on the flash, print on the console, and may
    /// change the flash (otadata, an erased slot). With no reset line to pull it back, the chip then returns to
    /// download mode, as if BOOT were held, so the next tool finds the loader.
    public func bootApplication() {
        var flash = loader.flash
        let result = ESP32Firmware.boot(&flash, signatureKey: signatureKey, policy: policy)
        loader.replaceFlash(flash)
        saveIfChanged()
        for line in result.console {
            console?(line)
        }
        send(Array((result.console.joined(separator: "\r\n") + "\r\n").utf8))
        loader.resetIntoLoader()
        send(Array(Self.romBanner.utf8))
    }

    private func send(_ bytes: [UInt8]) {
        if simulateBaudRate {
            let seconds = Double(bytes.count * 10) / Double(wireRate)
            Thread.sleep(forTimeInterval: seconds)
        }
        pty.write(bytes)
    }

    private func logEvents() {
        let events = loader.takeEvents()
        guard verbose else { return }
        for event in events {
            let name = ROMOpcode(rawValue: event.opcode)?.name ?? "0x" + String(event.opcode, radix: 16)
            log("\(event.mode.rawValue) \(name) \(event.detail)")
        }
    }

    /// Writes the flash file atomically when something changed since the last save.
    public func saveIfChanged() {
        guard loader.flashDirty, let flashPath else { return }
        do {
            try AtomicFile.write(loader.flash.bytes, to: flashPath)
            loader.markFlashSaved()
        } catch {
            log("cannot save the flash: \(error)")
        }
    }
}
