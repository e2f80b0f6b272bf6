import BoardSim
import Crypto
import FlashProtocol
import Foundation
import Testing

@Suite("ESP-IDF layouts")
struct LayoutTests {
    @Test("the partition table round-trips with its MD5 entry; a changed byte or an erased sector is named")
    func partitionTable() throws {
        let table = PartitionTable.twoOTAWithStaging
        let bytes = table.encoded
        #expect(bytes.count == 0xC00)
        #expect(Array(bytes[0..<2]) == [0xAA, 0x50])
        #expect(try PartitionTable(decoding: bytes) == table)
        #expect(table.otaSlots.map(\.label) == ["ota_0", "ota_1"])
        var changed = bytes
        changed[8] ^= 1  // ota size of the first entry
        #expect(throws: PartitionTable.DecodeError.badMD5) { try PartitionTable(decoding: changed) }
        #expect(throws: PartitionTable.DecodeError.empty) { try PartitionTable(decoding: [UInt8](repeating: 0xFF, count: 0xC00)) }
    }

    @Test("otadata: the higher valid sequence wins, a bad CRC or an invalid state is skipped, slot = (seq - 1) mod slots")
    func otadata() {
        let one = OTASelectEntry(sequence: 1, state: .valid).encoded
        let two = OTASelectEntry(sequence: 2, state: .pendingVerify).encoded
        #expect(OTASelectEntry.activeSlot(sectors: [one, two], slotCount: 2)?.slot == 1)
        var broken = two
        broken[28] ^= 0xFF
        #expect(OTASelectEntry.activeSlot(sectors: [one, broken], slotCount: 2)?.slot == 0)
        let invalid = OTASelectEntry(sequence: 3, state: .invalid).encoded
        #expect(OTASelectEntry.activeSlot(sectors: [invalid, one], slotCount: 2)?.slot == 0)
        #expect(OTASelectEntry.activeSlot(sectors: [[UInt8](repeating: 0xFF, count: 32)], slotCount: 2) == nil)
        // esp_rom_crc32_le(UINT32_MAX, &seq, 4) is zlib's crc32 continued from 0xFFFFFFFF.
        #expect(OTASelectEntry.crc(1) != 0 && OTASelectEntry.crc(1) != OTASelectEntry.crc(2))
    }

    @Test("an app image built here validates, carries its version, and each kind of damage is named")
    func appImage() throws {
        let image = ESP32AppImage.build(version: "2.3.4", project: "bench", code: Array(repeating: 0x5A, count: 1001))
        let parsed = try ESP32AppImage(validating: image + [UInt8](repeating: 0xFF, count: 100))
        #expect(parsed.appDescription?.version == "2.3.4" && parsed.appDescription?.project == "bench")
        #expect(parsed.length == image.count && parsed.hashAppended)
        var magic = image
        magic[0] = 0xFF
        #expect(throws: ESP32AppImage.Problem.badMagic(0xFF)) { try ESP32AppImage(validating: magic) }
        var code = image
        code[600] ^= 1
        #expect(throws: ESP32AppImage.Problem.self) { try ESP32AppImage(validating: code) }
        var hash = image
        hash[hash.count - 1] ^= 1
        #expect(throws: ESP32AppImage.Problem.badHash) { try ESP32AppImage(validating: hash) }
        #expect(throws: ESP32AppImage.Problem.self) { try ESP32AppImage(validating: Array(image.prefix(100))) }
    }

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
