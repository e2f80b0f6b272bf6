import ArgumentParser
import BoardModel
import FlashProtocol
import Foundation
import HILRunner
import OTAVerifier
import SerialIO

/// `otarig flash`: writes images to an ESP32 through its ROM loader, or files to a CC3220SF through its bootloader.
struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Write images to an ESP32 over its serial ROM loader (checked by MD5), or files and OTA images to a CC3220SF over its UART bootloader.",
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

            A CC3220SF (--chip cc3220sf, or a --board file whose chip is cc3220sf) is entered with a BREAK (the \
            break is retried 5 times; on a LaunchPad fit the SOP2 jumper and press RESET when asked) and written \
            file by file: FILE@NAME writes and reads back a file, --read NAME --out FILE reads one, --erase-file, \
            --list and --format SIZE work on the file system. --ota writes the --cert-dir files as DER under their \
            names, then the image as /sys/mcuflashimg.bin, secure and failsafe, closed with the job's certfile and \
            sig-sha1-rsa signature: the network processor's verdict is printed with its SimpleLink code and the \
            FreeRTOS PAL status the CC3220SF PAL makes of it.
              otarig flash --chip cc3220sf --port /dev/pts/4 --ota app.bin --job-doc job.json --cert-dir fs/
              otarig flash --chip cc3220sf --port /dev/pts/4 --ota signed.json --certfile tisigner.crt.der --cert-dir fs/
              otarig flash --chip cc3220sf --port /dev/pts/4 --format 4M app.bin@/sys/mcuimg.bin --list
            Exit status: 0 written and verified (a CC3220SF: the OTA image accepted), 1 the chip refused it or the \
            link failed (the message says which), 2 bad input.
            """
    )

    @Option(help: ArgumentHelp("The serial port (a /dev/serial/by-id path is stable across re-plugging).", valueName: "device"))
    var port: String?

    @Option(help: ArgumentHelp("Instead of --port: the attached board with this board-file id (see 'otarig boards').", valueName: "id"))
    var board: String?

    @OptionGroup var boardFiles: BoardFiles

    @Option(help: ArgumentHelp("How to reset into download mode: unix-tight, classic, usb-jtag-serial, or none. Default: what the --board file's reset: says (auto-reset-circuit: unix-tight; usb-jtag-serial; manual: none), unix-tight with --port.", valueName: "sequence"))
    var before: Before?

    @Option(help: ArgumentHelp("Switch to this baud rate after connecting (the ROM starts at 115200). Default: the --board file's flash.baud, 460800 with --port.", valueName: "rate"))
    var baud: Int?

    @Flag(name: .customLong("no-compress"), help: "Send the images as they are, in 1 KiB blocks.")
    var noCompress = false

    @Flag(help: "Only compare the flash with the images (MD5), writing nothing.")
    var verify = false

    @Option(help: ArgumentHelp("Read flash instead of writing: OFFSET:LENGTH (hex or decimal), into --out; on a CC3220SF the name of a file.", valueName: "range"))
    var read: String?

    @Option(help: ArgumentHelp("With --read: where to write what was read.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("What the chip does afterwards: stay (in the loader), run (the application, by the loader), or hard-reset (an EN pulse on RTS). Default: stay, or run with --ota.", valueName: "action"))
    var after: After?

    @Option(help: ArgumentHelp("A signed OTA image to write into the next OTA slot, as the FreeRTOS agent would have received it; needs --job-doc and --cert. CC3220SF: the image with --job-doc, or a signing job's signed object (JSON), closed with its signature; certificates from --cert-dir.", valueName: "file"))
    var ota: String?

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("With --ota: the job document that came with the image (afr_ota, or the execution message).", valueName: "file"))
    var jobDocument: String?

    @Option(help: ArgumentHelp("With --ota: the code-signing certificate the device holds, provisioned under the job's certfile.", valueName: "file"))
    var cert: String?

    @Option(name: .customLong("revocation-list"), help: ArgumentHelp("With --ota: a revocation list ('otarig revocation-list build') to provision beside the certificate, for a board whose policy checks revocation.", valueName: "file"))
    var revocationList: String?

    @Option(name: .customLong("revocation-signer-cert"), help: ArgumentHelp("With --ota: the revocation list signer's certificate (PEM), provisioned under otarig-revocation.crt.", valueName: "file"))
    var revocationSignerCert: String?

    @Option(name: .customLong("device-time"), help: ArgumentHelp("With --ota: set the device's RTC to this time before the update (ISO 8601, e.g. 2026-11-22T10:00:00Z, or unix seconds). Default: the device has no trusted time.", valueName: "time"))
    var deviceTime: String?


    @Option(help: ArgumentHelp("The chip behind --port: esp32 (the default) or cc3220sf (also a CC3200: the TI ROM's UART bootloader, files instead of offsets). A --board file names its chip.", valueName: "chip"))
    var chip: Board.Chip?

    @Option(name: .customLong("cert-dir"), help: ArgumentHelp("CC3220SF: certificate files to write first, each under its name relative to the directory (the signer under the job's certfile, each issuer under its \"Issued To\" name), converted to DER; the same meaning --cert-dir has for the twin's cc3220-simplelink profile.", valueName: "dir"))
    var certificateDirectory: String?

    @Option(help: ArgumentHelp("CC3220SF, with --ota signed.json: the certfile of the job document made from the signed object (the signing profile's certname).", valueName: "name"))
    var certfile: String?

    @Option(name: .customLong("erase-file"), help: ArgumentHelp("CC3220SF: delete this file (repeatable).", valueName: "name"))
    var eraseFiles: [String] = []

    @Flag(help: "CC3220SF: list the files the serial flash's FAT holds.")
    var list = false

    @Option(help: ArgumentHelp("CC3220SF: format the file system over this much serial flash (e.g. 4M) before anything else; every file and the security-alert count go.", valueName: "size"))
    var format: String?

    @Argument(help: ArgumentHelp("The images, each FILE@OFFSET (ESP32) or FILE@NAME (CC3220SF: a file in the SimpleLink file system).", valueName: "file@offset"))
    var images: [String] = []

    enum After: String, ExpressibleByArgument, CaseIterable {
        case stay, run
        case hardReset = "hard-reset"

        var plan: FlashPlan.After {
            switch self {
            case .stay: .stay
            case .run: .run
            case .hardReset: .hardReset
            }
        }
    }

    /// The reset sequences that enter download mode, or none.
    enum Before: String, ExpressibleByArgument, CaseIterable {
        case unixTight = "unix-tight"
        case classic
        case usbJTAGSerial = "usb-jtag-serial"
        case noReset = "none"

        var sequence: ResetSequence? {
            switch self {
            case .unixTight: .unixTight
            case .classic: .classic
            case .usbJTAGSerial: .usbJTAGSerial
            case .noReset: nil
            }
        }
    }

    /// The rate the ESP32 ROM loader starts at (esptool's ESPLoader.ESP_ROM_BAUD).
    static let romBaudRate = 115_200

    /// The rate used when neither --baud nor a board file says one.
    static let defaultBaudRate = 460_800

    /// The chip: --chip, or the --board file's, else an ESP32.
    func targetChip() throws -> Board.Chip {
        if let chip { return chip }
        guard let board else { return .esp32 }
        guard let file = try boardFiles.load().first(where: { $0.id == board }) else {
            throw OtarigError("no board file has id '\(board)'; 'ls Boards/' shows the ids")
        }
        return file.chip
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

    /// The port to open: --port, or the one attached board that --board names, with its board file.
    func resolvePort() throws -> (path: String, board: Board?) {
        switch (port, board) {
        case (let port?, nil): return (port, nil)
        case (nil, nil): throw OtarigError("name the board: --port DEVICE, or --board ID for an attached board (otarig boards lists them)")
        case (_?, _?): throw OtarigError("--port and --board both name the board; pass one")
        case (nil, let id?):
            let ports: [USBSerialPort]
            do {
                ports = try USBDiscovery.serialPorts()
            } catch {
                throw OtarigError("cannot list USB devices: \(error)")
            }
            do {
                // The node udev names for the matched USB identity now; the ttyUSBn number is only used this instant.
                let resolved = try BoardResolver.port(for: id, boards: try boardFiles.load(), ports: ports)
                return (resolved.port.devnode, resolved.board)
            } catch let failure as BoardResolver.Failure {
                throw OtarigError(failure.description)
            }
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
        if try targetChip() == .cc3220sf {
            let (path, board) = try resolvePort()
            try runCC3220(path: path, board: board)
            return
        }
        for (set, name) in [(certificateDirectory != nil, "--cert-dir"), (certfile != nil, "--certfile"), (!eraseFiles.isEmpty, "--erase-file"),
                            (list, "--list"), (format != nil, "--format")] where set {
            throw OtarigError("\(name) is for a CC3220SF (--chip cc3220sf); an ESP32 is written by offset")
        }
        let images = try parseImages()
        let staged = try prepareOTA()
        let readRange = try parseReadRange()
        let (path, board) = try resolvePort()
        let reset = before.map(\.sequence) ?? board.map { ResetSequence.download(for: $0.reset) } ?? .unixTight
        let baud = self.baud ?? board?.flash.baud ?? Self.defaultBaudRate
        guard baud >= 9600 else { throw OtarigError("--baud \(baud) is below 9600") }
        let port: SerialPort
        do {
            port = try SerialPort(path: path)
        } catch {
            throw OtarigError("\(error); check the port (otarig boards lists attached boards)")
        }
        // A board file picks its driver; a bare --port is an ESP32 on the common auto-reset circuit.
        let session: FlashSession
        if let board {
            do {
                session = FlashSession(driver: try BoardDrivers.driver(for: board, transport: port))
            } catch {
                throw OtarigError(error.description)
            }
        } else {
            session = FlashSession(flasher: ESP32Flasher(transport: port), resetLines: TransportResetLines(transport: port))
        }
        let plan = FlashPlan(
            before: reset, baudRate: baud == Self.romBaudRate ? nil : baud,
            images: images.map { FlashImage(name: $0.path, location: .offset($0.offset), bytes: $0.bytes) }, verifyOnly: verify,
            update: staged.map {
                OTAUpdate(name: $0.path, image: $0.image, jobDocument: $0.document, certificates: $0.certificates,
                          revocationList: $0.revocationList, deviceTime: $0.deviceTime)
            },
            readBack: readRange.map { .init(location: .offset($0.offset), length: $0.length) }, compress: !noCompress,
            after: after.map(\.plan) ?? (ota != nil ? .run : .stay))

        Console.error("connecting to \(path)\(board.map { " (\($0.id))" } ?? ""): reset \(reset?.rawValue ?? "none"), \(baud) baud…")
        var printer = FlashPrinter(path: path, images: images, staged: staged)
        let outcome: FlashOutcome
        do throws(FlashError) {
            outcome = try session.run(plan) { printer.handle($0) }
        } catch {
            printer.finishBar()
            switch error {
            case .digestMismatch(let offset, let size, let expected, let device) where verify:
                let name = images.first { $0.offset == offset }?.path ?? "the image"
                Console.error("otarig: verify failed: the flash at 0x\(String(offset, radix: 16)) (\(size) bytes) has MD5 \(device), '\(name)' has \(expected)")
                throw ExitCode(1)
            case .layout(let why), .unsupported(let why):
                // The chip's layout refusing the update is reported like a bad input (exit 2); the link's failures are not.
                throw OtarigError(why)
            default:
                Console.error("otarig: flash failed: \(error)")
                throw ExitCode(1)
            }
        }
        if let readRange, let out, let bytes = outcome.readBack {
            try Files.writeAtomically(Data(bytes), to: out)
            Console.out("read \(bytes.count) bytes from 0x\(String(readRange.offset, radix: 16)) into \(out)")
        }
    }

    /// Prints a session's events as the command always has: a progress bar per image, a line per image written or
    /// verified, the staged slot, and what the chip does afterwards.
    struct FlashPrinter {
        let path: String
        let images: [Image]
        let staged: StagedOTA?
        var bar: ProgressBar?
        var barName: String?

        init(path: String, images: [Image], staged: StagedOTA?) {
            self.path = path
            self.images = images
            self.staged = staged
        }

        mutating func finishBar() {
            bar?.finish()
            bar = nil
            barName = nil
        }

        mutating func handle(_ event: FlashEvent) {
            switch event {
            case .reset(let sequence, let performed):
                if !performed {
                    Console.error("note: \(path) has no DTR/RTS lines (a pty?); not resetting\(sequence == .hardReset ? "" : ", the chip must already be in download mode")")
                }
                if sequence == .hardReset { Console.out("hard reset through RTS: the chip boots its application") }
            case .progress(let name, let done, let total):
                if barName != name {
                    finishBar()
                    let label: String
                    if let image = images.first(where: { $0.path == name }) {
                        label = "writing \(name) @ 0x\(String(image.offset, radix: 16))"
                    } else if name == staged?.path {
                        label = "writing \(name)"
                    } else {
                        label = "reading \(name)"
                    }
                    bar = ProgressBar(label: label, total: total)
                    barName = name
                }
                bar?.update(done)
            case .wrote(let name, let location, let size, _, let seconds):
                guard images.contains(where: { $0.path == name }) else { return }
                finishBar()
                Console.out("wrote \(name) @ \(location): \(size) bytes in \(String(format: "%.2f", seconds)) s, MD5 verified")
            case .verified(let name, let location, _, let md5):
                Console.out("verified \(name) @ \(location): MD5 \(md5)")
            case .staged(let name, let update):
                finishBar()
                let offset = update.offset.map { " at 0x\(String($0, radix: 16))" } ?? ""
                Console.out("staged \(name) (\(staged?.image.count ?? 0) bytes) into \(update.location)\(offset), with its job document and certificate '\(staged?.certfile ?? "")'")
            case .read:
                finishBar()
            case .applicationStarted:
                Console.out("the chip left download mode and runs the application")
            case .connected, .flashAttached, .baudRateChanged, .retried:
                break
            }
        }
    }

    struct StagedOTA {
        var image: [UInt8]
        var path: String
        /// The job document's bytes, as the agent will receive them.
        var document: [UInt8]
        /// Where the device looks the certificate up (the job's certfile), and the certificate (PEM).
        var certfile: String
        var certificate: [UInt8]
        /// The certificates to provision: the code-signing one under certfile, the list signer's under its label.
        var certificates: [String: [UInt8]] = [:]
        var revocationList: [UInt8]?
        var deviceTime: Date?
    }

    /// --device-time: ISO 8601 or unix seconds.
    static func parseDeviceTime(_ text: String) throws -> Date {
        if let seconds = Int64(text) { return Date(timeIntervalSince1970: TimeInterval(seconds)) }
        guard let date = ISO8601DateFormatter().date(from: text) else {
            throw OtarigError("--device-time '\(text)' is neither ISO 8601 (2026-11-22T10:00:00Z) nor unix seconds")
        }
        return date
    }

    /// Reads the --ota inputs: the image, the job document (its certfile names the certificate's label).
    func prepareOTA() throws -> StagedOTA? {
        guard let ota else {
            if jobDocument != nil || cert != nil || revocationList != nil || revocationSignerCert != nil || deviceTime != nil {
                throw OtarigError("--job-doc, --cert, --revocation-list, --revocation-signer-cert and --device-time go with --ota; drop them or pass the signed image with --ota")
            }
            return nil
        }
        guard let jobDocument else { throw OtarigError("--ota needs --job-doc: the job document that came with the signed image") }
        guard let cert else { throw OtarigError("--ota needs --cert: the code-signing certificate the device holds (PEM)") }
        let image = Array(try Files.read(ota, what: "OTA image"))
        guard !image.isEmpty else { throw OtarigError("the OTA image '\(ota)' is empty") }
        let document = Array(try Files.read(jobDocument, what: "job document"))
        // Read as the device reads it (coreJSON): the staged bytes are what its agent will parse.
        switch JobExecution.shape(of: document) {
        case .executionMessage, .bareJobDocument: break
        case .invalid, .notAnObject:
            throw OtarigError("the job document '\(jobDocument)' is not a JSON object; pass the afr_ota document 'otarig sign --job-doc' wrote")
        case .otherObject:
            throw OtarigError("the job document '\(jobDocument)' has no afr_ota.files entry")
        }
        guard let certfile = JobExecution.certfile(in: document) else {
            throw OtarigError("the job document '\(jobDocument)' has no afr_ota.files entry with a certfile")
        }
        guard !certfile.isEmpty else { throw OtarigError("the job document's file entry has no certfile to provision --cert under") }
        let pem = try Files.read(cert, what: "certificate")
        guard let pemText = String(data: pem, encoding: .utf8), pemText.contains("-----BEGIN CERTIFICATE-----") else {
            throw OtarigError("--cert '\(cert)' is not a PEM certificate")
        }
        var staged = StagedOTA(image: image, path: ota, document: document, certfile: certfile, certificate: Array(pemText.utf8))
        staged.certificates = [certfile: staged.certificate]
        if let revocationSignerCert {
            let signer = try Files.read(revocationSignerCert, what: "revocation list signer certificate")
            guard let text = String(data: signer, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
                throw OtarigError("--revocation-signer-cert '\(revocationSignerCert)' is not a PEM certificate")
            }
            guard certfile != RevocationList.signerCertificateLabel else {
                throw OtarigError("the job's certfile is \(certfile), the label the revocation list signer's certificate is provisioned under; sign with another --certname")
            }
            staged.certificates[RevocationList.signerCertificateLabel] = Array(text.utf8)
        }
        if let revocationList {
            staged.revocationList = Array(try Files.read(revocationList, what: "revocation list"))
        }
        if let deviceTime { staged.deviceTime = try Self.parseDeviceTime(deviceTime) }
        return staged
    }

}

extension Board.Chip: ExpressibleByArgument {}

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
