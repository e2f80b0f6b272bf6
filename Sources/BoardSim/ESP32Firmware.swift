import FlashProtocol
import Foundation
import OTAVerifier

/// What the simulated ESP32 does when it leaves download mode: the second-stage bootloader (partition table,
/// otadata, the chosen slot's image checks) and a FreeRTOS OTA application that, finding a job staged by
/// `otarig flash --ota`, runs the device-side verifier (`DeviceFirmware`, the C core) over the new slot exactly as
/// the agent would on the last block, then activates the slot or erases it as the ESP32 PAL does.
public enum ESP32Firmware {
    public typealias StagedJob = OTAStaging.Job

    public struct BootResult: Sendable {
        public var console: [String] = []
        /// The device's verdict on a staged job, when there was one.
        public var verdict: DeviceVerdict?
        public var runningSlot: String?
        public var runningVersion: String?
    }

    /// Boots from `flash`, updating it as the device would (otadata, an erased slot, the cleared staging area).
    /// `signatureKey` is the job-document key the firmware was built to read (`OTA_JsonFileSignatureKey`, the board
    /// file's `firmware.signature-key`); a document that signs under any other key carries no signature for it.
    /// `policy` is the device policy the firmware enforces (empty: the stock PAL); the staged job's revocation list
    /// and device time, and the list signer's certificate among its certificates, feed it.
    public static func boot(_ flash: inout NORFlash, signatureKey: String, policy: Set<DevicePolicyCheck> = [],
                            thing: String = "sim-esp32") -> BootResult {
        var result = BootResult()
        var milliseconds = 27
        func say(_ level: Character, _ tag: String, _ text: String) {
            result.console.append("\(level) (\(milliseconds)) \(tag): \(text)")
            milliseconds += 3
        }
        result.console += ["ets Jun  8 2016 00:22:57", "", "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"]
        say("I", "boot", "otarig simulated ESP32 second-stage bootloader")

        let table: PartitionTable
        do {
            table = try PartitionTable(decoding: flash.read(offset: PartitionTable.offset, length: PartitionTable.length) ?? [])
        } catch {
            say("E", "boot", "failed to verify partition table: \(error)")
            say("E", "boot", "load partition table error!")
            return result
        }
        say("I", "boot", "Partition Table:")
        for (index, entry) in table.entries.enumerated() {
            say("I", "boot", " \(index) \(entry.label.padding(toLength: 16, withPad: " ", startingAt: 0)) \(hex2(entry.type)) \(hex2(entry.subtype)) \(hex8(entry.offset)) \(hex8(entry.size))")
        }
        let slots = table.otaSlots
        guard !slots.isEmpty else {
            say("E", "boot", "No bootable app partitions in the partition table")
            return result
        }
        let otadata = table.entry("otadata")
        func otadataSectors() -> [[UInt8]] {
            guard let otadata else { return [] }
            return [0, 0x1000].compactMap { flash.read(offset: otadata.offset + $0, length: 32).map(Array.init) }
        }
        let selected = OTASelectEntry.activeSlot(sectors: otadataSectors(), slotCount: slots.count)
        var order = Array(slots.indices)
        if let selected { order = [selected.slot] + order.filter { $0 != selected.slot } }
        // A slot holding a staged, not yet verified update is never booted: the image is still the OTA agent's.
        let staged = table.entry(OTAStaging.label).flatMap { partition in
            OTAStaging.decode(flash.read(offset: partition.offset, length: min(partition.size, 0x10000)) ?? [])
        }.flatMap { try? JSONDecoder().decode(StagedJob.self, from: Data($0)) }
        if let staged, staged.updatedBy == nil { order.removeAll { slots[$0].label == staged.slot } }

        var running: (entry: PartitionTable.Entry, image: ESP32AppImage)?
        for index in order {
            let slot = slots[index]
            do {
                let image = try ESP32AppImage(validating: flash.read(offset: slot.offset, length: slot.size) ?? [])
                running = (slot, image)
                break
            } catch {
                say("E", "esp_image", "image at 0x\(String(slot.offset, radix: 16)) \(error)")
            }
        }
        guard let running else {
            say("E", "boot", staged == nil ? "No bootable app partitions in the partition table"
                : "No bootable app partitions besides \(staged!.slot), which holds an update not yet verified: flash a running app first")
            return result
        }
        say("I", "boot", "Loaded app from partition at offset 0x\(String(running.entry.offset, radix: 16)) (\(running.entry.label))")
        let version = running.image.appDescription?.version ?? "1.0.0"
        result.runningSlot = running.entry.label
        result.runningVersion = version
        say("I", "cpu_start", "App version:      \(version)")
        say("I", "cpu_start", "Project name:     \(running.image.appDescription?.project ?? "")")

        // The application: the FreeRTOS OTA agent finds the job staged with the image.
        guard let staging = table.entry(OTAStaging.label), let job = staged else {
            say("I", "AWS_OTA", "No OTA job staged; running version \(version)")
            return result
        }
        flash.erase(offset: staging.offset, length: NORFlash.sectorSize)
        if let updatedBy = job.updatedBy {
            // Back from the reboot into the new image: the agent's self test, if this is the slot being tested.
            let active = OTASelectEntry.activeSlot(sectors: otadataSectors(), slotCount: slots.count)
            guard running.entry.label == job.slot, let active, active.entry.state == .pendingVerify else {
                say("I", "AWS_OTA", "No OTA job staged; running version \(version)")
                return result
            }
            let document = JobExecution.withSelfTestStatus(
                JobExecution.asExecutionMessage(Array(job.jobDocument.utf8), jobId: "AFR_OTA-\(thing)", clientToken: "0:\(thing)"), updatedBy: updatedBy)
            say("I", "AWS_OTA", "self test of \(running.entry.label): the job is back with statusDetails.updatedBy \(AppVersion.text(updatedBy))")
            guard let run = selfTest(document: document, runningVersion: AppVersion.word(version) ?? 0, signatureKey: signatureKey, thing: thing, say: say)
            else { return result }
            result.verdict = run
            let sector = Int(active.entry.sequence % 2) * 0x1000
            if let otadata {
                flash.erase(offset: otadata.offset + sector, length: NORFlash.sectorSize)
                flash.program(offset: otadata.offset + sector,
                              OTASelectEntry(sequence: active.entry.sequence, state: run.accepted ? .valid : .invalid).encoded)
            }
            if run.accepted {
                say("I", "esp_ota_ops", "self test passed: \(running.entry.label) marked valid; running version \(version)")
                return result
            }
            // The PAL marks the image invalid and resets: the bootloader goes back to the previous slot.
            say("W", "esp_ota_ops", "self test refused \(version): \(running.entry.label) marked invalid; rebooting into the previous image")
            let again = boot(&flash, signatureKey: signatureKey, policy: policy, thing: thing)
            result.console += again.console
            result.runningSlot = again.runningSlot
            result.runningVersion = again.runningVersion
            return result
        }
        guard let target = table.entry(job.slot), target.otaSlot != nil else {
            say("E", "AWS_OTA", "the staged job names slot '\(job.slot)', which is not an OTA partition")
            return result
        }
        say("I", "AWS_OTA", "OTA job staged for \(target.label) at 0x\(String(target.offset, radix: 16)); running the OTA agent on it")
        let running32 = AppVersion.word(version) ?? 0x0100_0000
        // The stream delivers the whole file; the slot holds what fits of it. Bytes past the slot reach the PAL only
        // in the block whose write fails there, so the filler standing in for them is never stored or hashed.
        var stream = flash.read(offset: target.offset, length: min(max(job.size, 0), target.size)).map(Array.init) ?? []
        if job.size > target.size, stream.count == target.size {
            stream += [UInt8](repeating: 0xFF, count: min(job.size, Self.maxFileSize) - target.size)
        }
        guard let run = verify(slot: stream, partitionSize: target.size, job: job,
                               runningVersion: running32, signatureKey: signatureKey, policy: policy, thing: thing, say: say)
        else { return result }
        result.verdict = run
        if run.accepted {
            // The PAL activates the new slot (otadata: the next sequence, pending verify) and the device reboots.
            let sequences = otadataSectors().compactMap { OTASelectEntry(decoding: $0)?.sequence }
            var next = (sequences.max() ?? 0) + 1
            let targetIndex = slots.firstIndex { $0.label == target.label } ?? 0
            while Int((next - 1) % UInt32(slots.count)) != targetIndex { next += 1 }
            if let otadata {
                let sector = Int(next % 2) * 0x1000
                flash.erase(offset: otadata.offset + sector, length: NORFlash.sectorSize)
                flash.program(offset: otadata.offset + sector, OTASelectEntry(sequence: next, state: .pendingVerify).encoded)
            }
            // The job comes back after the reboot for the self test: the board keeps what it needs for it.
            var selfTest = job
            selfTest.slot = target.label
            selfTest.updatedBy = running32
            if let record = try? JSONEncoder().encode(selfTest) {
                flash.program(offset: staging.offset, OTAStaging.encode(json: Array(record)))
            }
            say("I", "esp_ota_ops", "set boot partition to \(target.label) (ota_seq \(next)); rebooting")
            let again = boot(&flash, signatureKey: signatureKey, policy: policy, thing: thing)
            result.console += again.console
            result.runningSlot = again.runningSlot
            result.runningVersion = again.runningVersion
        } else if run.outcome == .rejectedWrite {
            // A failed write erases nothing: the PAL leaves what it wrote, and otadata never selects the slot.
            say("W", "AWS_OTA", "\(target.label) keeps the partial update and is not selected; still running \(version) from \(running.entry.label)")
        } else {
            // The ESP32 PAL erases the whole partition after a failed check.
            flash.erase(offset: target.offset, length: target.size)
            say("W", "AWS_OTA", "erased \(target.label) after the failed update; still running \(version) from \(running.entry.label)")
        }
        return result
    }

    /// Runs the C device verifier on the slot with the staged job document and certificates.
    /// The largest file the simulated stream carries past a slot (the ESP32's largest flash, 16 MiB); the agent
    /// tracks at most 4 MiB anyway (`OTA_MAX_BLOCK_BITMAP_SIZE` 128 × 8 blocks of 4 KiB).
    static let maxFileSize = 0x100_0000

    /// Runs the C device verifier on the slot (the stream as the device receives it) with the staged job document and
    /// certificates, writing into a partition of `partitionSize` bytes with the ESP32 PAL's 80-byte close trailer.
    static func verify(slot: [UInt8], partitionSize: Int, job: StagedJob, runningVersion: UInt32, signatureKey: String,
                       policy: Set<DevicePolicyCheck>, thing: String, say: (Character, String, String) -> Void) -> DeviceVerdict? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("certs"), withIntermediateDirectories: true)
            try Data(slot).write(to: directory.appendingPathComponent("slot.bin"))
            for (label, pem) in job.certificates {
                let path = directory.appendingPathComponent("certs").appendingPathComponent(label)
                try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(pem.utf8).write(to: path)
            }
        } catch {
            say("E", "AWS_OTA", "cannot stage the job for the verifier: \(error)")
            return nil
        }
        let document = JobExecution.asExecutionMessage(Array(job.jobDocument.utf8), jobId: "AFR_OTA-\(thing)", clientToken: "0:\(thing)")
        let inputs = DeviceRun.Inputs(imagePath: directory.appendingPathComponent("slot.bin").path, jobDocument: document,
                                      certificateDirectory: directory.appendingPathComponent("certs").path, signatureKey: signatureKey,
                                      runningVersion: runningVersion,
                                      devicePolicy: policy.isEmpty ? nil : DevicePolicyConfig(
                                          checks: policy, deviceTime: job.deviceTime, revocationList: job.revocationList,
                                          listSignerCertificate: job.certificates[RevocationList.signerCertificateLabel].map { Array($0.utf8) }),
                                      partitionSize: UInt32(clamping: partitionSize),
                                      closeTrailerSize: UInt32(PALProfile.esp32MbedTLS.closeTrailerSize))
        return runAgent(inputs, what: "the verifier", thing: thing, say: say)
    }

    /// The agent's self test after the reboot: the C core on the job with its status details, the platform
    /// reporting PendingCommit (otadata says pending verify) and the new image's version running.
    static func selfTest(document: [UInt8], runningVersion: UInt32, signatureKey: String, thing: String,
                         say: (Character, String, String) -> Void) -> DeviceVerdict? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: directory.appendingPathComponent("none.bin"))
        } catch {
            say("E", "AWS_OTA", "cannot start the self test: \(error)")
            return nil
        }
        let inputs = DeviceRun.Inputs(imagePath: directory.appendingPathComponent("none.bin").path, jobDocument: document,
                                      certificateDirectory: directory.path, signatureKey: signatureKey, runningVersion: runningVersion,
                                      platformPendingCommit: true)
        return runAgent(inputs, what: "the self test", thing: thing, say: say)
    }

    /// Runs the C core and prints what the agent logs and publishes, then the verdict line the rig reads.
    static func runAgent(_ inputs: DeviceRun.Inputs, what: String, thing: String, say: (Character, String, String) -> Void) -> DeviceVerdict? {
        let run: DeviceRun
        do {
            run = try DeviceRun.run(inputs)
        } catch {
            say("E", "AWS_OTA", "\(what) could not start: \(error.message)")
            return nil
        }
        for event in run.verdict.events {
            switch event {
            case .log(let line):
                say(line.level == .error ? "E" : line.level == .warn ? "W" : "I", "AWS_OTA", line.text)
            case .status(let status):
                say("I", "AWS_OTA", "publish $aws/things/\(thing)/jobs/\(status.jobId)/update \(status.payload)")
            }
        }
        say(run.verdict.accepted ? "I" : "E", "AWS_OTA", AgentConsole.verdictLine(run.verdict))
        return run.verdict
    }

    static func hex2(_ value: UInt8) -> String { value < 16 ? "0" + String(value, radix: 16) : String(value, radix: 16) }
    static func hex8(_ value: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
