import ArgumentParser
import Crypto
import FlashProtocol
import Foundation
import HILRunner
import SerialIO

/// `otarig flash`: writes images to an ESP32 through its ROM loader.
struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Write images to an ESP32 over its serial ROM loader, and check them by MD5.",
        discussion: """
            Each image goes to its offset as FILE@OFFSET (offsets in hex or decimal, 4 KiB aligned). The chip \
            must be in download mode: by the board's auto-reset circuit (DTR/RTS, tried first), or by holding \
            BOOT while resetting. Blocks are sent compressed (one zlib stream, FLASH_DEFL_*) unless \
            --no-compress; each block is retried 3 times, and after each image the flash's MD5 is compared with \
            the file's. A failure names the block, its offset and the chip's error code.

            Examples:
              otarig flash --port /dev/ttyUSB0 bootloader.bin@0x1000 partitions.bin@0x8000 app.bin@0x10000
              otarig flash --port "$(otarig sim esp32 --flash f.bin & sleep 1)" app.bin@0x10000
              otarig flash --port /dev/pts/3 --verify app.bin@0x10000
              otarig flash --board esp32-devkitc --after hard-reset app.bin@0x10000
            Exit status: 0 written and verified, 1 the chip or the link failed, 2 bad input.
            """
    )

    @Option(help: ArgumentHelp("The serial port (a /dev/serial/by-id path is stable across re-plugging).", valueName: "device"))
    var port: String?

    @Option(help: ArgumentHelp("Instead of --port: the attached board with this board-file id (see 'otarig boards').", valueName: "id"))
    var board: String?

    @OptionGroup var boardFiles: BoardFiles

    @Option(help: ArgumentHelp("How to reset into download mode: unix-tight (default), classic, usb-jtag-serial, or none.", valueName: "sequence"))
    var before: String = ResetSequence.unixTight.rawValue

    @Option(help: ArgumentHelp("Switch to this baud rate after connecting (the ROM starts at 115200).", valueName: "rate"))
    var baud: Int = 460_800

    @Flag(name: .customLong("no-compress"), help: "Send the images as they are, in 1 KiB blocks.")
    var noCompress = false

    @Flag(help: "Only compare the flash with the images (MD5), writing nothing.")
    var verify = false

    @Option(help: ArgumentHelp("Read flash instead of writing: OFFSET:LENGTH (hex or decimal), into --out.", valueName: "range"))
    var read: String?

    @Option(help: ArgumentHelp("With --read: where to write what was read.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("What the chip does afterwards: stay (in the loader), run (the application, by the loader), or hard-reset (an EN pulse on RTS). Default: stay, or run with --ota.", valueName: "action"))
    var after: After?

    @Option(help: ArgumentHelp("A signed OTA image to write into the next OTA slot, as the FreeRTOS agent would have received it; needs --job-doc and --cert.", valueName: "file"))
    var ota: String?

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("With --ota: the job document that came with the image (afr_ota, or the execution message).", valueName: "file"))
    var jobDocument: String?

    @Option(help: ArgumentHelp("With --ota: the code-signing certificate the device holds, provisioned under the job's certfile.", valueName: "file"))
    var cert: String?


    @Argument(help: ArgumentHelp("The images, each FILE@OFFSET.", valueName: "file@offset"))
    var images: [String] = []

    enum After: String, ExpressibleByArgument, CaseIterable {
        case stay, run
        case hardReset = "hard-reset"
    }

    /// --read OFFSET:LENGTH, checked against the flash.
    func parseReadRange() throws -> (offset: Int, length: Int)? {
        guard let read else {
            if out != nil { throw OtarigError("--out goes with --read OFFSET:LENGTH") }
            return nil
        }
        guard out?.isEmpty == false else { throw OtarigError("--read needs --out FILE for what it reads") }
        func number(_ text: Substring) -> Int? {
            text.lowercased().hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        }
        let parts = read.split(separator: ":")
        guard parts.count == 2, let offset = number(parts[0]), let length = number(parts[1]), offset >= 0, length > 0 else {
            throw OtarigError("--read '\(read)' is not OFFSET:LENGTH, e.g. 0x10000:0x4000")
        }
        guard offset + length <= ESP32Flasher.flashSize else { throw OtarigError("--read \(read) ends past the 4 MiB flash") }
        return (offset, length)
    }

    /// The port to open: --port, or the one attached board that --board names.
    func resolvePort() throws -> (path: String, board: String?) {
        switch (port, board) {
        case (let port?, nil): return (port, nil)
        case (nil, nil): throw OtarigError("name the board: --port DEVICE, or --board ID for an attached board (otarig boards lists them)")
        case (_?, _?): throw OtarigError("--port and --board both name the board; pass one")
        case (nil, let id?):
            let attached = try BoardsCommand.attached(boardFiles).filter { $0.boards.contains(id) }
            guard !attached.isEmpty else {
                throw OtarigError("no attached board matches '\(id)'; 'otarig boards' lists what is attached and which board file each matches")
            }
            guard attached.count == 1 else {
                throw OtarigError("\(attached.count) attached boards match '\(id)' (\(attached.map(\.port.devnode).joined(separator: ", "))); pin one by its USB serial or path in a board file")
            }
            // The node udev names for the matched USB identity now; the ttyUSBn number is only used this instant.
            return (attached[0].port.devnode, id)
        }
    }

    struct Image {
        var path: String
        var offset: Int
        var bytes: [UInt8]
    }

    func parseImages() throws -> [Image] {
        if read != nil {
            guard images.isEmpty, ota == nil, !verify else { throw OtarigError("--read reads only: drop the images, --ota and --verify") }
            return []
        }
        guard !images.isEmpty || ota != nil else { throw OtarigError("no images: give each as FILE@OFFSET, e.g. app.bin@0x10000, or a signed OTA image with --ota") }
        var parsed: [Image] = []
        for text in images {
            guard let at = text.lastIndex(of: "@") else {
                throw OtarigError("'\(text)' has no offset: write FILE@OFFSET, e.g. \(text)@0x10000")
            }
            let path = String(text[..<at]), offsetText = String(text[text.index(after: at)...])
            let offset = offsetText.lowercased().hasPrefix("0x") ? Int(offsetText.dropFirst(2), radix: 16) : Int(offsetText)
            guard let offset, offset >= 0 else {
                throw OtarigError("'\(offsetText)' in '\(text)' is not an offset: write hex (0x10000) or decimal")
            }
            guard offset % 0x1000 == 0 else {
                throw OtarigError("offset 0x\(String(offset, radix: 16)) in '\(text)' is not 4 KiB aligned; flash is erased in 4 KiB sectors")
            }
            let bytes = Array(try Files.read(path, what: "image"))
            guard !bytes.isEmpty else { throw OtarigError("the image '\(path)' is empty") }
            guard offset + bytes.count <= ESP32Flasher.flashSize else {
                throw OtarigError("'\(path)' (\(bytes.count) bytes) at 0x\(String(offset, radix: 16)) ends past the 4 MiB flash")
            }
            parsed.append(Image(path: path, offset: offset, bytes: bytes))
        }
        let sorted = parsed.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.bytes.count > b.offset {
            throw OtarigError("'\(a.path)' at 0x\(String(a.offset, radix: 16)) overlaps '\(b.path)' at 0x\(String(b.offset, radix: 16))")
        }
        return parsed
    }

    func run() throws {
        let images = try parseImages()
        let staged = try prepareOTA()
        let readRange = try parseReadRange()
        let reset: ResetSequence?
        if before == "none" {
            reset = nil
        } else {
            guard let sequence = ResetSequence(rawValue: before), sequence != .hardReset else {
                throw OtarigError("--before '\(before)' is not a reset sequence: use unix-tight, classic, usb-jtag-serial or none")
            }
            reset = sequence
        }
        let (path, boardID) = try resolvePort()
        let port: SerialPort
        do {
            port = try SerialPort(path: path)
        } catch {
            throw OtarigError("\(error); check the port (otarig boards lists attached boards)")
        }
        let flasher = ESP32Flasher(transport: port)
        do {
            if let reset { drive(reset, port, path: path) }
            Console.error("connecting to \(path)\(boardID.map { " (\($0))" } ?? "")…")
            try flasher.connect()
            try flasher.detectChip()
            try flasher.attachFlash()
            if baud != 115_200 { try flasher.changeBaudRate(baud) }
            for image in images {
                let name = "\(image.path) @ 0x\(String(image.offset, radix: 16))"
                if verify {
                    let expected = Insecure.md5Hex(image.bytes)
                    let device = try flasher.md5(offset: image.offset, size: image.bytes.count)
                    guard device == expected else {
                        Console.error("otarig: verify failed: the flash at 0x\(String(image.offset, radix: 16)) (\(image.bytes.count) bytes) has MD5 \(device), '\(image.path)' has \(expected)")
                        throw ExitCode(1)
                    }
                    Console.out("verified \(name): MD5 \(device)")
                    continue
                }
                let started = Date()
                var bar = ProgressBar(label: "writing \(name)", total: image.bytes.count)
                flasher.onEvent = { if case .progress(_, let done, _) = $0 { bar.update(done) } }
                try flasher.write(image.bytes, at: image.offset, compress: !noCompress)
                bar.finish()
                let seconds = Date().timeIntervalSince(started)
                Console.out("wrote \(name): \(image.bytes.count) bytes in \(String(format: "%.2f", seconds)) s, MD5 verified")
            }
            if let staged { try writeOTA(staged, flasher) }
            if let readRange, let out {
                var bar = ProgressBar(label: "reading 0x\(String(readRange.offset, radix: 16))", total: readRange.length)
                flasher.onEvent = { if case .progress(_, let done, _) = $0 { bar.update(done) } }
                let bytes = try flasher.read(offset: readRange.offset, length: readRange.length)
                bar.finish()
                try Files.writeAtomically(Data(bytes), to: out)
                Console.out("read \(bytes.count) bytes from 0x\(String(readRange.offset, radix: 16)) into \(out)")
            }
            switch after ?? (ota != nil ? .run : .stay) {
            case .stay: break
            case .run:
                try flasher.runApplication()
                Console.out("the chip left download mode and runs the application")
            case .hardReset:
                drive(.hardReset, port, path: path)
                Console.out("hard reset through RTS: the chip boots its application")
            }
        } catch let error as FlashError {
            Console.error("otarig: flash failed: \(error)")
            throw ExitCode(1)
        }
    }

    struct StagedOTA {
        var image: [UInt8]
        var path: String
        var job: OTAStaging.Job
    }

    /// Reads the --ota inputs: the image, the job document (its certfile names the certificate's label).
    func prepareOTA() throws -> StagedOTA? {
        guard let ota else {
            if jobDocument != nil || cert != nil { throw OtarigError("--job-doc and --cert go with --ota; drop them or pass the signed image with --ota") }
            return nil
        }
        guard let jobDocument else { throw OtarigError("--ota needs --job-doc: the job document that came with the signed image") }
        guard let cert else { throw OtarigError("--ota needs --cert: the code-signing certificate the device holds (PEM)") }
        let image = Array(try Files.read(ota, what: "OTA image"))
        guard !image.isEmpty else { throw OtarigError("the OTA image '\(ota)' is empty") }
        let document = try Files.read(jobDocument, what: "job document")
        guard let text = String(data: document, encoding: .utf8),
              let object = try? JSONSerialization.jsonObject(with: document) as? [String: Any]
        else { throw OtarigError("the job document '\(jobDocument)' is not JSON; pass the afr_ota document 'otarig sign --job-doc' wrote") }
        let afr = ((object["execution"] as? [String: Any])?["jobDocument"] as? [String: Any] ?? object)["afr_ota"] as? [String: Any]
        guard let file = (afr?["files"] as? [[String: Any]])?.first else {
            throw OtarigError("the job document '\(jobDocument)' has no afr_ota.files entry")
        }
        let certfile = file["certfile"] as? String ?? ""
        guard !certfile.isEmpty else { throw OtarigError("the job document's file entry has no certfile to provision --cert under") }
        let pem = try Files.read(cert, what: "certificate")
        guard let pemText = String(data: pem, encoding: .utf8), pemText.contains("-----BEGIN CERTIFICATE-----") else {
            throw OtarigError("--cert '\(cert)' is not a PEM certificate")
        }
        return StagedOTA(image: image, path: ota, job: OTAStaging.Job(slot: "", size: image.count, jobDocument: text, certificates: [certfile: pemText]))
    }

    /// The image into the passive slot, the job into the staging partition (ESP32Flasher.stageOTA).
    private func writeOTA(_ staged: StagedOTA, _ flasher: ESP32Flasher) throws {
        var bar = ProgressBar(label: "writing \(staged.path)", total: staged.image.count)
        flasher.onEvent = { if case .progress(_, let done, _) = $0 { bar.update(done) } }
        let target: PartitionTable.Entry
        do {
            target = try flasher.stageOTA(image: staged.image, job: staged.job, compress: !noCompress)
        } catch {
            // The chip's layout refusing the update is reported like a bad input (exit 2); the link's failures are not.
            if case .layout(let why) = error { throw OtarigError(why) }
            throw error
        }
        bar.finish()
        Console.out("staged \(staged.path) (\(staged.image.count) bytes) into \(target.label) at 0x\(String(target.offset, radix: 16)), with its job document and certificate '\(staged.job.certificates.keys.first ?? "")'")
    }

    /// Drives a reset sequence on the port's modem lines; a plain pty has none, which is said once.
    private func drive(_ sequence: ResetSequence, _ port: SerialPort, path: String) {
        guard port.setLines(dtr: false, rts: false) else {
            Console.error("note: \(path) has no DTR/RTS lines (a pty?); not resetting, the chip must already be in download mode")
            return
        }
        var dtr = false, rts = false
        for step in sequence.steps() {
            switch step {
            case .lines(let d, let r): dtr = d; rts = r; port.setLines(dtr: dtr, rts: rts)
            case .dtr(let d): dtr = d; port.setLines(dtr: dtr, rts: rts)
            case .rts(let r): rts = r; port.setLines(dtr: dtr, rts: rts)
            case .wait(let seconds): usleep(UInt32(seconds * 1_000_000))
            }
        }
    }
}

/// A one-line progress bar on standard error.
struct ProgressBar {
    let label: String
    let total: Int
    var lastPercent = -1
    let interactive = isatty(STDERR_FILENO) != 0

    init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    mutating func update(_ done: Int) {
        let percent = min(100, done * 100 / total)
        guard percent != lastPercent else { return }
        lastPercent = percent
        guard interactive else { return }
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% \(done / 1024)/\(total / 1024) KiB".utf8))
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
