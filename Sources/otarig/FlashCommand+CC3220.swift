import ArgumentParser
import BoardModel
import FlashProtocol
import Foundation
import HILRunner
import OTAVerifier
import SerialIO

/// `otarig flash` for a TI CC3220SF (or CC3200): the ROM's UART bootloader, which writes files in the SimpleLink file
/// system rather than raw flash.
extension FlashCommand {
    /// One FILE@NAME argument: a local file and the name it gets on the device.
    struct DeviceFile {
        var path: String
        var name: String
        var bytes: [UInt8]
    }

    func parseDeviceFiles() throws -> [DeviceFile] {
        try images.map { text in
            guard let at = text.lastIndex(of: "@"), at != text.startIndex else {
                throw OtarigError("'\(text)' has no file name: write FILE@NAME, e.g. app.bin@/sys/mcuimg.bin")
            }
            let path = String(text[..<at]), name = String(text[text.index(after: at)...])
            guard !name.isEmpty, name.utf8.count <= CC3220Bootloader.maxFileNameLength else {
                throw OtarigError("'\(name)' in '\(text)' is not a SimpleLink file name (1 to \(CC3220Bootloader.maxFileNameLength) bytes)")
            }
            let bytes = Array(try Files.read(path, what: "file"))
            return DeviceFile(path: path, name: name, bytes: bytes)
        }
    }

    /// The certificate files to upload first: every file in --cert-dir (subdirectories give the name's folders), as
    /// DER, under its name relative to the directory.
    func certificateFiles() throws -> [String: [UInt8]] {
        guard let certificateDirectory else { return [:] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: certificateDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError("--cert-dir '\(certificateDirectory)' is not a directory: pass the directory of certificate files, named as the device names them")
        }
        var files: [String: [UInt8]] = [:]
        let entries = FileManager.default.enumerator(atPath: certificateDirectory)?.compactMap { $0 as? String } ?? []
        for name in entries.sorted() {
            var isDirectory: ObjCBool = false
            let path = certificateDirectory + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if name == "revoked.txt" { continue }
            let bytes = Array(try Files.read(path, what: "certificate"))
            guard let der = CC3220Flasher.der(bytes) else {
                throw OtarigError("'\(path)' is neither a PEM nor a DER certificate; the SimpleLink file system holds certificates as DER")
            }
            files[name] = der
        }
        guard !files.isEmpty else { throw OtarigError("--cert-dir '\(certificateDirectory)' holds no files") }
        return files
    }

    /// The OTA inputs: `--ota IMAGE --job-doc JOB`, or `--ota signed.json` (a signing job's JSONEmbedded object, whose
    /// job document is made as AWS IoT's CreateOTAUpdate makes it; --certfile names the certificate file).
    func loadCC3220Update(certificates: [String: [UInt8]]) throws -> OTAUpdate? {
        guard let ota else { return nil }
        var arguments: [String]
        let head = (try? Files.read(ota, what: "OTA image").prefix(64)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if jobDocument == nil, head.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            arguments = ["--signed-object", ota]
            if let certfile {
                arguments += ["--certfile", certfile]
            } else if certificateDirectory == nil {
                throw OtarigError("--ota '\(ota)' is a signed object: pass --certfile NAME, the certificate file the device verifies with (the signing profile's certname)")
            }
        } else {
            guard let jobDocument else { throw OtarigError("--ota '\(ota)' is an image: pass its job document with --job-doc, or pass the signing job's signed object (JSON) as --ota") }
            arguments = ["--image", ota, "--job-doc", jobDocument]
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-cc3220-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // The inputs are read with the twin's loader, which wants a certificate directory; the device's files are
        // what --cert-dir uploads.
        let directory = certificateDirectory ?? scratch
        if certificateDirectory == nil { _ = FileManager.default.createFile(atPath: scratch + "/placeholder", contents: Data([0x30])) }
        let options: DeviceInputOptions
        do {
            options = try DeviceInputOptions.parse(arguments + ["--cert-dir", directory, "--signature-key", "sig-sha1-rsa"])
        } catch {
            throw OtarigError("\(DeviceInputOptions.message(for: error))")
        }
        let loaded = try options.load(defaultSignatureKey: "sig-sha1-rsa")
        return OTAUpdate(name: ota, image: Array(loaded.image), jobDocument: loaded.document.bytes, certificates: certificates)
    }

    func runCC3220(path: String, board: Board?) throws {
        let deviceFiles = try parseDeviceFiles()
        let certificates = try certificateFiles()
        let update = try loadCC3220Update(certificates: certificates)
        if let read, out == nil || out?.isEmpty == true { throw OtarigError("--read \(read) needs --out FILE for what it reads") }
        let formatSize = try format.map { text in
            guard let size = Board.parseSize(text), size % CC3220Bootloader.fileSystemBlockSize == 0, size > 0 else {
                throw OtarigError("--format '\(text)' is not a size in 4 KiB blocks such as 4M or 1M")
            }
            return size
        }
        guard !deviceFiles.isEmpty || update != nil || read != nil || !eraseFiles.isEmpty || list || formatSize != nil || !certificates.isEmpty else {
            throw OtarigError("nothing to do: give files as FILE@NAME, --ota, --cert-dir, --read NAME --out FILE, --erase-file NAME, --list or --format SIZE")
        }
        if baud != nil, baud != CC3220Bootloader.baudRate { throw OtarigError("--baud: the CC3220 bootloader runs at \(CC3220Bootloader.baudRate) baud only; drop --baud") }
        let port: SerialPort
        do {
            port = try SerialPort(path: path, baudRate: CC3220Bootloader.baudRate)
        } catch {
            throw OtarigError("\(error); check the port (otarig boards lists attached boards)")
        }
        let flasher = CC3220Flasher(transport: port)
        flasher.signatureKey = board?.firmware.signatureKey ?? "sig-sha1-rsa"
        if board?.simulated != true, board != nil {
            flasher.resetByHand = { Console.error("reset the board now with SOP2 high (the SOP2 jumper fitted, then RESET)") }
        }
        var restarts = 0
        // What the next transfer is, for its progress bar's label.
        var doing = "writing"
        var bar: ProgressBar?
        var barName: String?
        flasher.onEvent = { event in
            switch event {
            case .retried(let step, let attempt, let reason):
                bar?.finish(); bar = nil; barName = nil
                if step != "connect" { restarts += 1 }
                Console.error(step == "connect"
                    ? "no answer to the break (attempt \(attempt)): \(reason); retrying"
                    : "\(step): \(reason) (attempt \(attempt)); breaking in again and starting it over")
            case .connected(let chip): Console.error("connected: \(chip)")
            case .progress(let name, let done, let total):
                if barName != name {
                    bar?.finish()
                    bar = ProgressBar(label: "\(doing) \(name)", total: total)
                    barName = name
                }
                bar?.update(done)
            case .read:
                bar?.finish()
                bar = nil
                barName = nil
            default: break
            }
        }
        Console.error("connecting to \(path)\(board.map { " (\($0.id))" } ?? ""): BREAK, \(CC3220Bootloader.baudRate) baud…")
        var refused = false
        do throws(FlashError) {
            _ = try flasher.open()
            if let formatSize {
                try flasher.format(size: formatSize)
                Console.out("formatted \(formatSize / 1024) KiB: every file gone, the security-alert count reset")
            }
            for name in eraseFiles {
                try flasher.eraseFile(name)
                Console.out("erased \(name)")
            }
            for file in deviceFiles {
                let started = port.now
                doing = "writing"
                try flasher.writeFile(CC3220FileWrite(name: file.name, data: file.bytes))
                bar?.finish(); bar = nil; barName = nil
                doing = "verifying"
                try flasher.verify(FlashImage(name: file.path, location: .file(file.name), bytes: file.bytes))
                bar?.finish(); bar = nil; barName = nil
                Console.out("wrote \(file.path) to \(file.name): \(file.bytes.count) bytes in \(String(format: "%.2f", port.now - started)) s, read back equal")
            }
            if update == nil {
                for (name, der) in certificates.sorted(by: { $0.key < $1.key }) {
                    try flasher.writeFile(CC3220FileWrite(name: name, data: der))
                    bar?.finish(); bar = nil; barName = nil
                    Console.out("wrote certificate \(name) (\(der.count) bytes, DER)")
                }
            }
            if let read, let out {
                doing = "reading"
                let bytes = try flasher.read(.file(read), length: 0)
                bar?.finish(); bar = nil; barName = nil
                do {
                    try Files.writeAtomically(Data(bytes), to: out)
                } catch {
                    Console.error("otarig: \(error)")
                    throw .link("cannot write '\(out)'")
                }
                Console.out("read \(read): \(bytes.count) bytes into \(out)")
            }
            if list {
                doing = "reading"
                for (entry, size) in try flasher.listFiles() {
                    Console.out("\(entry.name)\t\(size.map { "\($0) bytes" } ?? "?")\t\(entry.sizeBlocks) blocks at \(entry.startBlock)\(entry.mirrored ? ", failsafe" : "")")
                }
            }
            if let update {
                doing = "writing"
                let started = port.now
                let staged = try flasher.stage(update, compress: false)
                bar?.finish(); bar = nil; barName = nil
                for name in certificates.keys.sorted() { Console.out("wrote certificate \(name) (DER)") }
                let status = PALStatus(rawValue: staged.closeStatus ?? 0)
                if status == .success {
                    Console.out("OTA verdict: accepted: \(update.name) closed as \(staged.location) in \(String(format: "%.2f", port.now - started)) s; the network processor verified its signature (\(status))")
                    return
                }
                Console.out("OTA verdict: refused: \(status)\(Self.simpleLinkText(status))")
                refused = true
            }
        } catch {
            bar?.finish(); bar = nil; barName = nil
            switch error {
            case .layout(let why), .unsupported(let why):
                throw OtarigError(why)
            default:
                Console.error("otarig: flash failed\(restarts > 0 ? " (after \(restarts) restart\(restarts == 1 ? "" : "s") of the transfer)" : ""): \(error)")
                throw ExitCode(1)
            }
        }
        if refused { throw ExitCode(1) }
    }

    /// The SimpleLink code behind a PAL status the CC3220SF PAL made from it.
    static func simpleLinkText(_ status: PALStatus) -> String {
        guard status.main == UInt32(PALMain.signatureCheckFailed.rawValue) || status.main == UInt32(PALMain.fileClose.rawValue), status.sub != 0 else {
            return status.main == UInt32(PALMain.rxFileTooLarge.rawValue) ? ": the CC3220SF PAL takes files of at most 512 KiB" : ""
        }
        let code = Int32(bitPattern: status.sub | 0xFF00_0000)
        let name = SimpleLinkError(rawValue: code)?.name ?? "SimpleLink error"
        return ": the network processor returned \(name) (\(code))"
    }
}
