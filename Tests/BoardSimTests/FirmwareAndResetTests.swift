import BoardSim
import FlashProtocol
import Foundation
import Testing

@Suite("The simulated ESP32 firmware")
struct FirmwareBootTests {
    @Test("boot with no app names the problem; with a staged job for a blank device the update slot is not booted")
    func bootWithoutApp() {
        var flash = NORFlash()
        flash.program(offset: PartitionTable.offset, PartitionTable.twoOTAWithStaging.encoded)
        let result = ESP32Firmware.boot(&flash, signatureKey: "sig-sha256-ecdsa")
        #expect(result.console.contains { $0.contains("No bootable app partitions") })
        #expect(result.runningSlot == nil)
        var blank = NORFlash()
        #expect(ESP32Firmware.boot(&blank, signatureKey: "sig-sha256-ecdsa").console.contains { $0.contains("failed to verify partition table") })
    }
}


@Suite("Reset sequences")
struct ResetSequenceTests {
    /// What the simulator's auto-reset circuit logs when driven by the sequence, on a virtual clock.
    static func drive(_ sequence: ResetSequence) throws -> [String] {
        final class Lines: @unchecked Sendable {
            var lines: [String] = []
        }
        let log = Lines()
        let simulator = try SimulatedESP32(flashPath: nil) { log.lines.append($0) }
        var clock = 0.0
        var dtr = false, rts = false
        for step in sequence.steps() {
            switch step {
            case .lines(let d, let r): dtr = d; rts = r
            case .dtr(let d): dtr = d
            case .rts(let r): rts = r
            case .wait(let seconds):
                clock += seconds
                simulator.settleReset(at: clock)
                continue
            }
            simulator.setLines(dtr: dtr, rts: rts, at: clock)
        }
        simulator.settleReset(at: clock + 1)
        return log.lines.filter { $0.hasPrefix("reset:") }
    }

    @Test("on the two-transistor circuit, unix-tight and classic start the chip in download mode, the hard reset in the application")
    func sequences() throws {
        let download = ["reset: EN low, the chip is held in reset", "reset: EN rose with IO0 low: boot into download mode"]
        #expect(try Self.drive(.unixTight) == download)
        // Classic sets DTR and clears RTS one after the other: EN's RC delay lets IO0 settle low first.
        #expect(try Self.drive(.classic) == download)
        #expect(try Self.drive(.hardReset) == ["reset: EN low, the chip is held in reset", "reset: EN rose with IO0 high: boot the application"])
        #expect(ResetSequence.unixTight.steps(resetDelay: 0.55).contains(.wait(seconds: 0.55)))
    }
}
