import DurableFiles
import FlashProtocol
import Foundation
import OTAVerifier
import SerialIO

/// A simulated TI CC3220SF (or CC3200) on a pseudo-terminal: the ROM's UART bootloader that cc3200tool and
/// `otarig flash` talk to, over a SimpleLink file system kept in a file between runs, whose signed close is the
/// network processor's (`SimpleLinkFileSystem.SignedClose`, the C model in Firmware/ through `SimpleLinkNWP`).
///
/// The wire (shared/reference/cc3220-bootloader.md §4.3, §7.2): the master is in packet mode, so the host's input
/// flush, which every tool does right before its BREAK, is the break a pty cannot carry; a host closing the port is a
/// power cycle (the chip is back in its boot ROM, files persist). A harness can also drive the reset lines through a
/// control FIFO ("dtr=D rts=R" lines, as the umockdev harness writes them): DTR asserted holds nRESET low, RTS
/// asserted pulls SOP2 high (cc3200tool's `--reset dtr --sop2 rts` wiring). When nRESET rises with SOP2 low the
/// application boots and prints on the UART; with SOP2 high the ROM waits for a break.
public final class SimulatedCC3220SF: @unchecked Sendable {
    public let pty: PseudoTerminal
    public let statePath: String?
    public private(set) var machine: CC3220DeviceStateMachine
    public private(set) var fileSystem: SimpleLinkFileSystem
    /// What raw reads of the serial flash see: the rendered file system, changed by raw writes and erases until the
    /// next file-system change renders it again.
    public private(set) var serialFlash: NORFlash
    /// The 64 KiB of SRAM a host may load a patch into (storage 0; accepted, never run).
    public private(set) var sram = [UInt8](repeating: 0, count: 16 * 4096)
    /// The network processor's signed close.
    public let signedClose: SimpleLinkFileSystem.SignedClose
    /// The certificate file a close with an empty certificate slot names (every open tool sends an empty slot; what a
    /// real ROM does then is unknown, reference §8).
    public var defaultCertificateName = "/cert/dummy-root-ca-cert"
    /// Security alerts after which the device locks itself.
    public var alertThreshold: Int {
        get { fileSystem.alertThreshold }
        set { fileSystem.alertThreshold = newValue }
    }
    /// Gets every console line the application prints (the pty gets them too).
    public var console: (@Sendable (String) -> Void)?
    public var verbose = false
    /// Pace the answers at 921 600 baud, as the real UART would (10 bits per byte).
    public var simulateBaudRate = false
    private let log: @Sendable (String) -> Void

    /// Seeded faults on host frames and device answers: a frame is lost, a bit in it flips, or the answer comes late.
    public var faults: SimulatorFaults? {
        didSet { random = SplitMix64(seed: faults?.seed ?? 0) }
    }
    private var random = SplitMix64(seed: 0)

    private struct OpenFile {
        var name: String
        var flags: CC3220OpenFlags
        var writing: Bool
        var data: [UInt8]
        var maxSize: Int
        var token: UInt32
    }
    private var openFile: OpenFile?
    private var pendingSend: (at: Double, bytes: [UInt8])?
    private var hostPresent = false
    private var dirty = false
    private var nextToken: UInt32 = 0x1000

    /// nRESET held low by the harness's DTR.
    private var heldInReset = false

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(statePath: String?, identity: CC3220DeviceIdentity, pty: PseudoTerminal,
                signedClose: @escaping SimpleLinkFileSystem.SignedClose, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        var fileSystem = SimpleLinkFileSystem()
        if let statePath, FileManager.default.fileExists(atPath: statePath) {
            guard let data = FileManager.default.contents(atPath: statePath) else {
                throw Failure(description: "cannot read the state file '\(statePath)'")
            }
            do {
                fileSystem = try JSONDecoder().decode(SimpleLinkFileSystem.self, from: data)
            } catch {
                throw Failure(description: "the state file '\(statePath)' is not a simulated CC3220SF's file system (\(error)); move it away to start from a blank chip")
            }
        }
        self.fileSystem = fileSystem
        serialFlash = NORFlash(contents: fileSystem.renderRaw(), size: fileSystem.blockCount * SimpleLinkFileSystem.blockSize)
        machine = CC3220DeviceStateMachine(identity: identity)
        self.statePath = statePath
        self.pty = pty
        self.signedClose = signedClose
        self.log = log
    }

    /// Serves the port until `shouldStop` says so.
    public func run(shouldStop: () -> Bool, control: (() -> [(dtr: Bool, rts: Bool)])? = nil) {
        while !shouldStop() {
            for lines in control?() ?? [] { setLines(dtr: lines.dtr, rts: lines.rts) }
            firePendingSend()
            let wait: Int32 = pendingSend == nil ? (control == nil ? 50 : 5) : 5
            switch pty.readPacket(timeoutMilliseconds: wait) {
            case .nothing:
                saveIfChanged()
            case .hangup:
                if hostPresent {
                    hostPresent = false
                    powerCycle(reason: "the host closed the port")
                }
                saveIfChanged()
                usleep(20_000)
            case .control(let flags):
                hostPresent = true
                if flags & PseudoTerminal.flushRead != 0, !heldInReset {
                    if verbose { log("host flushed its input: break") }
                    var actions = machine.breakDetected()
                    if actions.isEmpty && machine.isInBootloader {
                        // A break in the middle of a session: the host gave up on an exchange and starts over. What a
                        // real ROM does then is unknown (reference §8); the simulator restarts its bootloader, so a
                        // host can always recover with a break, as it would with a reset.
                        powerCycle(reason: "a break in the middle of a session")
                        actions = machine.breakDetected()
                    }
                    perform(actions)
                }
            case .data(let bytes):
                hostPresent = true
                guard !heldInReset else { continue }
                if simulateBaudRate { Thread.sleep(forTimeInterval: Double(bytes.count * 10) / Double(CC3220Bootloader.baudRate)) }
                guard let faults else {
                    perform(machine.bytesReceived(bytes))
                    continue
                }
                faultBuffer += bytes
                for var unit in takeUnits() {
                    if unit.count > 3, random.chance(faults.rate) {
                        switch random.next() % 3 {
                        case 0:
                            log("fault: lost a \(unit.count)-byte frame")
                            continue
                        case 1:
                            let bit = Int(random.next() % UInt64((unit.count - 3) * 8))
                            unit[3 + bit / 8] ^= UInt8(1) << UInt8(bit % 8)
                            log("fault: flipped bit \(bit) of a \(unit.count)-byte frame's payload")
                        default:
                            log("fault: answering \(faults.delay) s late")
                            Thread.sleep(forTimeInterval: faults.delay)
                        }
                    }
                    perform(machine.bytesReceived(unit))
                }
            }
        }
        for lines in control?() ?? [] { setLines(dtr: lines.dtr, rts: lines.rts) }
        saveIfChanged()
    }

    /// Host bytes not yet cut into whole units, when faults are on.
    private var faultBuffer: [UInt8] = []

    /// Cuts the host's bytes into whole units (an ACK, a frame, or a byte that starts neither), so a fault hits one
    /// whole frame and the bootloader's parser stays in step, however the pty split the bytes.
    private func takeUnits() -> [[UInt8]] {
        var units: [[UInt8]] = []
        while !faultBuffer.isEmpty {
            if faultBuffer.starts(with: CC3220Bootloader.ack) {
                units.append(Array(faultBuffer.prefix(2)))
                faultBuffer.removeFirst(2)
                continue
            }
            guard faultBuffer.count >= 2 else { break }
            let length = Int(faultBuffer[0]) << 8 | Int(faultBuffer[1])
            guard length >= 3, length - 2 <= CC3220Bootloader.maxFramePayload else {
                units.append([faultBuffer.removeFirst()])
                continue
            }
            guard faultBuffer.count >= length + 1 else { break }
            units.append(Array(faultBuffer.prefix(length + 1)))
            faultBuffer.removeFirst(length + 1)
        }
        return units
    }

    /// The host changed the lines (under umockdev, or through the control channel).
    public func setLines(dtr: Bool, rts: Bool) {
        let wasHeld = heldInReset
        heldInReset = dtr
        if verbose { log("lines: DTR=\(dtr ? 1 : 0) RTS=\(rts ? 1 : 0) -> nRESET \(dtr ? "low" : "high"), SOP2 \(rts ? "high" : "low")") }
        if !wasHeld && heldInReset {
            log("reset: nRESET low, the chip is held in reset")
            powerCycle(reason: "nRESET low")
        } else if wasHeld && !heldInReset {
            if rts {
                log("reset: nRESET rose with SOP2 high: the ROM waits for a break")
            } else {
                log("reset: nRESET rose with SOP2 low: boot the application")
                bootApplication()
            }
        }
    }

    private func powerCycle(reason: String) {
        if verbose { log("power cycle (\(reason)): back in the boot ROM") }
        machine.powerCycled()
        pendingSend = nil
        openFile = nil
        faultBuffer = []
    }

    private func firePendingSend() {
        guard let pending = pendingSend, MonotonicClock.now >= pending.at else { return }
        pendingSend = nil
        send(pending.bytes)
    }

    private func perform(_ actions: [CC3220DeviceStateMachine.Action]) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .send(let bytes):
                send(bytes)
            case .sendAfter(let seconds, let bytes):
                pendingSend = (MonotonicClock.now + seconds, bytes)
            case .handle(let command):
                if verbose { log("\(command.opcode.name)") }
                let response = handle(command)
                queue.append(contentsOf: machine.respond(response))
            }
        }
    }

    private func send(_ bytes: [UInt8]) {
        var out = bytes
        if let faults, out.count > 2, random.chance(faults.rate / 4) {
            // A reply corrupted on the way back: the host sees a wrong checksum.
            let bit = Int(random.next() % UInt64(out.count * 8))
            out[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            log("fault: flipped bit \(bit) of a \(out.count)-byte answer")
        }
        if simulateBaudRate { Thread.sleep(forTimeInterval: Double(out.count * 10) / Double(CC3220Bootloader.baudRate)) }
        pty.write(out)
    }

    // MARK: the commands the owner carries out

    func handle(_ command: CC3220Command) -> CC3220DeviceResponse {
        switch command {
        case .getStorageList:
            return .raw([CC3220StorageList([.serialFlash, .sram]).rawValue])
        case .getStorageInfo(let storage):
            switch storage {
            case .sram: return .frame(CC3220StorageInfo(blockSize: 4096, blockCount: UInt16(sram.count / 4096)).encoded)
            case .serialFlash: return .frame(CC3220StorageInfo(blockSize: 4096, blockCount: UInt16(fileSystem.blockCount)).encoded)
            default: return .frame(CC3220StorageInfo(blockSize: 0, blockCount: 0).encoded, status: CC3220Status.invalidAddress.rawValue)
            }
        case .rawStorageErase(let storage, let start, let count):
            let offset = Int(start) * 4096, length = Int(count) * 4096
            switch storage {
            case .serialFlash:
                guard serialFlash.erase(offset: offset, length: length) else { return .status(.invalidAddress) }
                dirty = true
            case .sram:
                guard offset + length <= sram.count else { return .status(.invalidAddress) }
                for index in offset..<offset + length { sram[index] = 0xFF }
            default:
                return .status(.invalidAddress)
            }
            return .status(.ok)
        case .rawStorageWrite(let storage, let offset, let data):
            switch storage {
            case .serialFlash:
                guard serialFlash.program(offset: Int(offset), data) else { return .status(.invalidAddress) }
            case .sram:
                guard Int(offset) + data.count <= sram.count else { return .status(.invalidAddress) }
                sram.replaceSubrange(Int(offset)..<Int(offset) + data.count, with: data)
            default:
                return .status(.invalidAddress)
            }
            return .status(.ok)
        case .rawStorageRead(let storage, let offset, let length):
            let bytes: [UInt8]?
            switch storage {
            case .serialFlash: bytes = serialFlash.read(offset: Int(offset), length: Int(length)).map(Array.init)
            case .sram: bytes = Int(offset) + Int(length) <= sram.count ? Array(sram[Int(offset)..<Int(offset) + Int(length)]) : nil
            default: bytes = nil
            }
            guard let bytes else {
                return .frame([UInt8](repeating: 0xFF, count: Int(min(length, 4096))), status: CC3220Status.invalidAddress.rawValue)
            }
            return .frame(bytes)
        case .format(let blocks):
            let count = Int(blocks)
            guard count > SimpleLinkFileSystem.fatBlocks, count <= 4096 else { return .status(.invalidCommand) }
            fileSystem.format(blockCount: count)
            openFile = nil
            fileSystemChanged()
            log("format: \(count) blocks of 4 KiB, every file gone, security alerts reset")
            return .status(.ok)
        case .getFileInfo(let name):
            guard let file = fileSystem.file(named: name) else { return .frame(CC3220FileInfo(exists: false, size: 0).encoded) }
            return .frame(CC3220FileInfo(exists: true, size: UInt32(file.data.count), maximumSize: UInt32(file.maxSize)).encoded)
        case .startUpload(let name, let flags, _):
            nextToken &+= 1
            let token = [UInt8(nextToken >> 24), UInt8(nextToken >> 16 & 0xFF), UInt8(nextToken >> 8 & 0xFF), UInt8(nextToken & 0xFF)]
            if flags.access == .read || flags.rawValue == 0 {
                guard let file = fileSystem.file(named: name) else {
                    openFile = nil
                    return .raw(token, status: CC3220Status.flashFail.rawValue)
                }
                openFile = OpenFile(name: name, flags: flags, writing: false, data: file.data, maxSize: file.maxSize, token: nextToken)
                return .raw(token)
            }
            let maxSize = max(flags.allocation, 1)
            if let failure = fileSystem.canCreate(name, maxSize: maxSize, failsafe: flags.fileSystemFlags.contains(.commit)) {
                log("open \(name) for writing refused: \(failure)")
                openFile = nil
                return .raw(token, status: CC3220Status.flashFail.rawValue)
            }
            openFile = OpenFile(name: name, flags: flags, writing: true, data: [], maxSize: maxSize, token: nextToken)
            return .raw(token)
        case .fileChunk(let offset, let data):
            guard var file = openFile, file.writing else { return .status(.flashFail) }
            let end = Int(offset) + data.count
            guard end <= file.maxSize else {
                log("write to \(file.name) at \(offset) ends past its \(file.maxSize)-byte allocation")
                return .status(.flashFail)
            }
            if file.data.count < end { file.data += [UInt8](repeating: 0xFF, count: end - file.data.count) }
            file.data.replaceSubrange(Int(offset)..<end, with: data)
            openFile = file
            return .status(.ok)
        case .readFileChunk(let offset, let length):
            guard let file = openFile, !file.writing else {
                return .frame([UInt8](repeating: 0xFF, count: Int(min(length, 4096))), status: CC3220Status.flashFail.rawValue)
            }
            var bytes = Array(file.data.dropFirst(Int(offset)).prefix(Int(length)))
            if bytes.count < Int(length) { bytes += [UInt8](repeating: 0xFF, count: Int(length) - bytes.count) }
            return .frame(bytes)
        case .finishUpload(let close):
            guard let file = openFile else { return .status(.flashFail) }
            openFile = nil
            guard file.writing else { return .status(.ok) }
            let fsFlags = file.flags.fileSystemFlags
            let certificate = close.certificateName ?? defaultCertificateName
            let closeCheck = signedClose
            let code = fileSystem.closeWrite(name: file.name, data: file.data, maxSize: file.maxSize, token: file.token,
                                             secure: fsFlags.contains(.secure), signed: file.flags.isSignedSecure,
                                             failsafe: fsFlags.contains(.commit), certificateName: certificate, signature: close.signature,
                                             check: closeCheck)
            fileSystemChanged()
            if code == 0 {
                log("close \(file.name): \(file.data.count) bytes" + (file.flags.isSignedSecure ? ", signature verified with '\(certificate)'" : ""))
                return .status(.ok)
            }
            log("close \(file.name) refused: \(SimpleLinkNWP.errorName(code)) (\(code)); security alerts \(fileSystem.securityAlerts)/\(fileSystem.alertThreshold)")
            return .status(.flashFail, simpleLinkCode: code)
        case .eraseFile(let name):
            guard fileSystem.erase(name) else { return .status(.flashFail) }
            fileSystemChanged()
            return .status(.ok)
        case .fsProgramming:
            // TI programming images (.ucf/.sli) are TI-proprietary; this simulator does not unpack them.
            let notStarted = UInt32(bitPattern: Int32(-10276)) << 16
            return .raw([UInt8(notStarted >> 24), UInt8(notStarted >> 16 & 0xFF), 0, 0])
        case .getMACAddress:
            return .frame([0x02, 0x00, 0x4F, 0x54, 0x41, 0x52, 0, 0])
        case .getStatus, .getVersionInfo, .switchUARTToApps, .execFromRAM:
            // The state machine answers these itself.
            return .status(.ok)
        }
    }

    private func fileSystemChanged() {
        serialFlash = NORFlash(contents: fileSystem.renderRaw(), size: fileSystem.blockCount * SimpleLinkFileSystem.blockSize)
        dirty = true
    }

    // MARK: the application

    /// The trusted-root catalog directory the application's OTA agent closes files against (the same catalog the
    /// bootloader's signed close uses); nil: no agent runs.
    public var rootCatalogDirectory: String?
    /// The job-document key the application's OTA agent reads the signature from (a stock CC3220SF build:
    /// sig-sha1-rsa, FreeRTOS `ota_config.h` for TI).
    public var signatureKey = "sig-sha1-rsa"
    /// The thing name in the job-status topics the agent prints.
    public var thing = "sim-cc3220sf"

    /// The application as the FreeRTOS CC3220SF OTA demo boots it: the MCU image is /sys/mcuflashimg.bin. When an
    /// update waits as files (`CC3220AgentFiles`, the rig's delivery), the demo's OTA agent takes it: the C agent
    /// with the CC3220SF PAL (`DeviceRun`, `Inputs.cc3220`) on the job document and the image, the file system's
    /// files as the network processor's, this device's security-alert count in and back out. An accepted image
    /// becomes /sys/mcuflashimg.bin (failsafe, pending commit) and the device reboots into it, where the agent's self
    /// test has the last word (commit, or roll back to the previous image); a refused one changes nothing. Without
    /// staged files, an image waiting for its bundle commit passes its self test (the demo's test is reaching the OTA
    /// service) and is committed.
    public func bootApplication() {
        var lines: [String] = []
        let running = runningImage()
        if let image = fileSystem.file(named: CC3220AgentFiles.mcuImage) {
            lines.append("[CC3220SF] booting /sys/mcuflashimg.bin (\(image.data.count) bytes)" + (running.map { ", App version: \($0.text)" } ?? ""))
        } else {
            lines.append("[CC3220SF] no MCU image (/sys/mcuflashimg.bin): the ROM has nothing to boot")
        }
        if let job = fileSystem.file(named: CC3220AgentFiles.jobDocument), let image = fileSystem.file(named: CC3220AgentFiles.image) {
            runAgent(job: job.data, image: image.data, runningVersion: running?.word ?? 0x0100_0000, lines: &lines)
            fileSystem.erase(CC3220AgentFiles.jobDocument)
            fileSystem.erase(CC3220AgentFiles.image)
            fileSystemChanged()
        } else if let image = fileSystem.file(named: CC3220AgentFiles.mcuImage), image.pendingCommit {
            lines.append("[OTA] the image is pending commit: self test")
            fileSystem.commit()
            fileSystemChanged()
            lines.append("[OTA] Accepted and committed final image.")
        } else if fileSystem.file(named: CC3220AgentFiles.mcuImage) != nil {
            lines.append("[OTA] the image is committed; no OTA job staged")
        }
        lines.append("[OTA] waiting for download")
        for line in lines { console?(line) }
        send(Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        saveIfChanged()
    }

    /// The version of the MCU image, read as otarig's images carry it (the ESP-IDF app description the rig's
    /// synthetic images start with); nil when the image has none.
    private func runningImage() -> (word: UInt32, text: String)? {
        guard let image = fileSystem.file(named: CC3220AgentFiles.mcuImage) else { return nil }
        return Self.version(of: image.data)
    }

    static func version(of image: [UInt8]) -> (word: UInt32, text: String)? {
        guard let text = (try? ESP32AppImage(validating: image))?.appDescription?.version, let word = AppVersion.word(text) else { return nil }
        return (word, text)
    }

    /// The OTA agent on a staged job: the download and close, then (accepted) the reboot and the self test.
    private func runAgent(job: [UInt8], image: [UInt8], runningVersion: UInt32, lines: inout [String]) {
        lines.append("[OTA] OTA job received: running the OTA agent on \(image.count) bytes")
        guard let download = agentRun(job: job, image: image, runningVersion: runningVersion, pendingCommit: false, lines: &lines) else { return }
        guard download.verdict.accepted else {
            lines.append("[OTA] the update was refused; still running the previous image")
            return
        }
        // otaPal_ActivateNewImage: the image is the new /sys/mcuflashimg.bin, failsafe until the bundle commit.
        _ = fileSystem.closeWrite(name: CC3220AgentFiles.mcuImage, data: image, maxSize: image.count, token: nextToken, secure: true, signed: false,
                                  failsafe: true, certificateName: "", signature: [], check: { _, _, _, _ in 0 })
        fileSystemChanged()
        let newVersion = Self.version(of: image)
        lines.append("[OTA] otaPal_ActivateNewImage: rebooting into /sys/mcuflashimg.bin" + (newVersion.map { ", App version: \($0.text)" } ?? ""))
        let selfTest = JobExecution.withSelfTestStatus(job, updatedBy: runningVersion)
        guard let tested = agentRun(job: selfTest, image: [], runningVersion: newVersion?.word ?? runningVersion, pendingCommit: true, lines: &lines)
        else { return }
        if tested.verdict.accepted {
            fileSystem.commit()
        } else {
            fileSystem.rollback()
            let back = runningImage()
            lines.append("[CC3220SF] booting /sys/mcuflashimg.bin (rolled back)" + (back.map { ", App version: \($0.text)" } ?? ""))
        }
        fileSystemChanged()
    }

    /// One run of the C agent with the CC3220SF PAL: the file system's files (but the staged ones and the MCU image)
    /// and the image materialised in a temporary directory, removed afterwards. Prints what the agent logs and
    /// publishes, the network processor's close, and the verdict line.
    private func agentRun(job: [UInt8], image: [UInt8], runningVersion: UInt32, pendingCommit: Bool, lines: inout [String]) -> DeviceRun? {
        guard let rootCatalogDirectory else {
            lines.append("[OTA] error: no root catalog, the network processor cannot close signed files")
            return nil
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-cc3220-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = directory.appendingPathComponent("fs")
        let imagePath = directory.appendingPathComponent("image.bin")
        let skipped = Set([CC3220AgentFiles.jobDocument, CC3220AgentFiles.image, CC3220AgentFiles.mcuImage].map(SimpleLinkFileSystem.normalized))
        do {
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            try Data(image).write(to: imagePath)
            for file in fileSystem.files.compactMap({ $0 }) where !skipped.contains(file.name) && !file.name.contains("..") && !file.name.isEmpty {
                let path = files.appendingPathComponent(file.name)
                try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.data).write(to: path)
            }
        } catch {
            lines.append("[OTA] error: cannot hand the job to the agent: \(error)")
            return nil
        }
        let state = SimpleLinkNWP.State(securityAlerts: UInt32(fileSystem.securityAlerts), alertThreshold: UInt32(fileSystem.alertThreshold))
        let inputs = DeviceRun.Inputs(imagePath: imagePath.path, jobDocument: job, certificateDirectory: files.path, signatureKey: signatureKey,
                                      runningVersion: runningVersion, platformPendingCommit: pendingCommit,
                                      cc3220: .init(rootCatalogDirectory: rootCatalogDirectory, state: state))
        let run: DeviceRun
        do {
            run = try DeviceRun.run(inputs)
        } catch {
            lines.append("[OTA] error: the agent could not start: \(error.message)")
            return nil
        }
        for event in run.verdict.events {
            switch event {
            case .log(let line): lines.append("[OTA] \(line.level.rawValue): \(line.text)")
            case .status(let status): lines.append("[OTA] publish $aws/things/\(thing)/jobs/\(status.jobId)/update \(status.payload)")
            }
        }
        if let after = run.simpleLinkState { fileSystem.recordSecurityAlerts(Int(after.securityAlerts)) }
        if let evidence = run.simpleLink {
            lines.append("[SL] " + AgentConsole.simpleLinkLine(evidence, threshold: state.alertThreshold))
        }
        lines.append("[OTA] " + AgentConsole.verdictLine(run.verdict))
        return run
    }

    /// Writes the state file atomically when something changed since the last save.
    public func saveIfChanged() {
        guard dirty, let statePath else { return }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(fileSystem)), to: statePath)
            dirty = false
        } catch {
            log("cannot save the file system: \(error)")
        }
    }
}
