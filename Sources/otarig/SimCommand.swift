import ArgumentParser
import BoardModel
import BoardSim
import FlashProtocol
import Foundation
import OTAVerifier
import SerialIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Set by SIGINT/SIGTERM; the simulator's loop polls it.
private let stopRequested = Atomic<Bool>(false)

/// `otarig sim`: simulated boards on pseudo-terminals.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a simulated board on a pseudo-terminal.",
        subcommands: [ESP32.self, CC3220SF.self]
    )

    /// --control: the FIFO a harness writes the modem lines to.
    static func controlChannel(_ path: String?) throws -> ControlChannel? {
        guard let path else { return nil }
        do {
            return try ControlChannel(path: path)
        } catch {
            throw OtarigError(error.description)
        }
    }

    /// --faults, --fault-seed, --fault-delay, checked.
    static func faults(rate: Double?, seed: UInt64, delay: Double) throws -> SimulatorFaults? {
        guard let rate else { return nil }
        guard (0...1).contains(rate) else { throw OtarigError("--faults \(rate) is not a fraction: give a rate from 0 to 1, e.g. 0.02") }
        guard delay >= 0, delay <= 60 else { throw OtarigError("--fault-delay \(delay) is out of range: 0 to 60 seconds") }
        return SimulatorFaults(rate: rate, seed: seed, delay: delay)
    }

    /// --console FILE, or standard error: where the simulated application's lines go besides the pty.
    static func consoleWriter(_ path: String?) throws -> @Sendable (String) -> Void {
        guard let path else { return { line in Console.error("console: \(line)") } }
        // Appending, so a reader that truncates the file between boots gets clean text.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw OtarigError("cannot write the console file '\(path)': \(String(cString: strerror(errno))); check the directory")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        return { line in handle.write(Data((line + "\n").utf8)) }
    }

    /// SIGINT and SIGTERM end the simulator's loop. A parent may have started us with them blocked (a thread's mask
    /// is inherited across exec), so they are unblocked first.
    static func stopOnSignals() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
    }

    struct ESP32: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "esp32",
            abstract: "A simulated ESP32 in download mode that esptool and 'otarig flash' can flash.",
            discussion: """
                Prints the pseudo-terminal's path on the first line of standard output, then serves it until \
                interrupted (SIGINT or SIGTERM). The chip answers as the ESP32 ROM loader does (8 SYNC replies, the \
                register map esptool reads for chip detection, SPI flash id, FLASH_BEGIN/DATA, the compressed \
                FLASH_DEFL_* path, SPI_FLASH_MD5, READ_FLASH_SLOW) and, once esptool uploads its flasher stub, as \
                the stub (OHAI, 16 KiB blocks, READ_FLASH, ERASE_*). The 4 MiB NOR flash (erase sets 0xFF, writes can \
                only clear bits) is kept in --flash between runs.

                Examples:
                  otarig sim esp32 --flash esp32-flash.bin &
                  esptool --port /dev/pts/3 --before no-reset --after no-reset write-flash 0x10000 app.bin
                Exit status: 0 stopped by a signal, 2 bad input.
                """
        )

        @Option(help: ArgumentHelp("The flash contents, read at start (if the file exists) and written back after changes.", valueName: "file"))
        var flash: String?

        @Option(help: ArgumentHelp("The board file of the simulated board: its firmware.signature-key is the one job-document key the simulated OTA PAL reads, and its policy: the device policy the firmware enforces (sim-esp32-enforcing: certificate-validity and revocation). Default: sim-esp32 (or, without a board directory, a stock ESP32 build's sig-sha256-ecdsa).", valueName: "id"))
        var board: String?

        @OptionGroup var boardFiles: BoardFiles

        @Flag(name: .customLong("baud-timing"), help: "Charge every byte its time on the wire at the current baud rate (115200 until the host changes it), as a real UART would.")
        var baudTiming = false

        @Option(help: ArgumentHelp("Simulate the UART at this fixed rate, whatever the host asks for (implies --baud-timing).", valueName: "rate"))
        var baud: Int?

        @Flag(help: "Print each command the chip handles on standard error.")
        var verbose = false

        @Option(name: .customLong("serial-fd"), help: ArgumentHelp("Serve this open descriptor instead of a new pty (the master of umockdev's fake /dev/ttyUSB0).", valueName: "fd"))
        var serialDescriptor: Int32?

        @Option(help: ArgumentHelp("A FIFO (made if missing) where a harness writes the modem lines as 'dtr=0 rts=1' lines; the chip's auto-reset circuit follows them.", valueName: "path"))
        var control: String?

        @Option(help: ArgumentHelp("Also write the simulated firmware's console (boot log, OTA agent lines) to this file.", valueName: "file"))
        var console: String?

        @Option(help: ArgumentHelp("Inject a fault into this fraction of received frames (0 to 1): the frame is lost, a bit flips, or the answer comes late.", valueName: "rate"))
        var faults: Double?

        @Option(name: .customLong("fault-seed"), help: ArgumentHelp("The seed that chooses the faults, so a run replays.", valueName: "n"))
        var faultSeed: UInt64 = 1

        @Option(name: .customLong("fault-delay"), help: ArgumentHelp("How late a late answer comes, in seconds.", valueName: "seconds"))
        var faultDelay: Double = 4

        func run() throws {
            let simulator: SimulatedESP32
            do {
                let log: @Sendable (String) -> Void = { Console.error("otarig sim: \($0)") }
                if let serialDescriptor {
                    simulator = try SimulatedESP32(flashPath: flash, pty: try PseudoTerminal(existingMaster: serialDescriptor, name: "fd \(serialDescriptor)"), log: log)
                } else {
                    simulator = try SimulatedESP32(flashPath: flash, log: log)
                }
            } catch {
                throw OtarigError("\(error)")
            }
            let board = try boardFile()
            simulator.signatureKey = (board?.firmware ?? Board.Firmware.stock(for: .esp32)).signatureKey
            // The board file's device policy, in the twin's terms (the names are the same).
            simulator.policy = Set((board?.policy ?? []).compactMap { DevicePolicyCheck(rawValue: $0.rawValue) })
            let lines = try SimCommand.controlChannel(control)
            simulator.faults = try SimCommand.faults(rate: faults, seed: faultSeed, delay: faultDelay)
            simulator.console = try SimCommand.consoleWriter(console)
            if let baud {
                guard baud >= 1200 else { throw OtarigError("--baud \(baud) is below 1200") }
                simulator.fixedBaudRate = baud
            }
            simulator.simulateBaudRate = baudTiming || baud != nil
            simulator.verbose = verbose
            SimCommand.stopOnSignals()
            Console.out(simulator.pty.slavePath)
            Console.error("otarig sim: ESP32 (ESP32-D0WD-V3, 4 MiB flash\(flash.map { " in '\($0)'" } ?? "")) on \(simulator.pty.slavePath); stop with Ctrl-C")
            simulator.run(shouldStop: { stopRequested.load(ordering: .relaxed) }, control: lines.map { channel in { channel.read() } })
            Console.error("otarig sim: stopped")
        }

        /// The simulated board's board file: its firmware build and device policy (nil: no board directory and no
        /// --board, a stock ESP32 build).
        func boardFile() throws -> Board? {
            if board == nil, !boardFiles.exists {
                return nil
            }
            let id = board ?? "sim-esp32"
            guard let file = try boardFiles.load().first(where: { $0.id == id }) else {
                throw OtarigError("no board file has id '\(id)'; 'ls Boards/' shows the ids")
            }
            guard file.chip == .esp32 else {
                throw OtarigError("board '\(id)' carries a \(file.chip.rawValue); 'otarig sim esp32' simulates an ESP32")
            }
            return file
        }
    }

    struct CC3220SF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cc3220sf",
            abstract: "A simulated TI CC3220SF (or CC3200) in its ROM's UART bootloader, for cc3200tool and 'otarig flash'.",
            discussion: """
                Prints the pseudo-terminal's path on the first line of standard output, then serves it until \
                interrupted (SIGINT or SIGTERM). A pty cannot carry a BREAK, so the host's input flush (which every \
                tool does just before its break) is taken as one; a host closing the port is a power cycle. The chip \
                answers as the ROM bootloader does (framing with 00 CC acknowledgements, version and storage \
                queries, the switch to the application core, raw storage, format, file upload, read, erase) over a \
                SimpleLink file system kept in --flash. A secure, signed file is checked when it is closed, as the \
                network processor does: RSA PKCS#1 v1.5 over SHA-1 of the file, with the certificate file the close \
                names (an empty name: --default-cert), issuer certificates stored under their "Issued To" names, up \
                to a root in --root-catalog. A failed check leaves the previous file, returns the SimpleLink error \
                (GET_STATUS 0x44, then the code as a big-endian int32: otarig's extension) and counts a security \
                alert; at --alert-threshold alerts the device locks until it is formatted.

                Reset lines: with --control FIFO, "dtr=D rts=R" lines drive nRESET (DTR asserted holds it low) and \
                SOP2 (RTS asserted pulls it high), cc3200tool's --reset dtr --sop2 rts wiring. nRESET rising with \
                SOP2 low boots the application, which prints on the UART what the FreeRTOS CC3220SF OTA demo does; an update \
                staged as files (/otarig/ota-job.json and /otarig/ota-image.bin, 'otarig run''s delivery) is taken by the \
                demo's OTA agent (otarig's C agent with the CC3220SF PAL), which closes it through the network \
                processor and prints its verdict.

                Examples:
                  otarig sim cc3220sf --flash cc3220-fs.json &
                  otarig flash --chip cc3220sf --port /dev/pts/3 --ota signed.json --cert-dir fs/
                  cc3200tool -p /dev/pts/3 -rw 0 format_flash -s 4M write_file app.bin /sys/mcuimg.bin   # --identity cc3200
                Exit status: 0 stopped by a signal, 2 bad input.
                """
        )

        @Option(help: ArgumentHelp("The file-system state, read at start (if the file exists) and written back after changes.", valueName: "file"))
        var flash: String?

        @Option(help: ArgumentHelp("Which chip the bootloader says it is: cc3220sf (the default) or cc3200 (the identity cc3200tool supports: it refuses a CC3220).", valueName: "chip"))
        var identity: String = "cc3220sf"

        @Option(name: .customLong("root-catalog"), help: ArgumentHelp("The trusted roots the signed close checks chains against: a directory of PEM or DER root certificates, with revoked.txt listing revoked certificates by SHA-1 or SHA-256 fingerprint (as otarig verify --root-catalog). Default: Boards/cc3220-playground/catalog (otarig's stand-in for TI's playground catalog).", valueName: "dir"))
        var rootCatalog: String?

        @Option(name: .customLong("default-cert"), help: ArgumentHelp("The certificate file a close with an empty certificate name uses (cc3200tool and mos send none).", valueName: "name"))
        var defaultCertificate: String = "/cert/dummy-root-ca-cert"

        @Option(name: .customLong("alert-threshold"), help: ArgumentHelp("Security alerts after which the device locks itself (TI's default 15).", valueName: "n"))
        var alertThreshold: Int = 15

        @OptionGroup var boardFiles: BoardFiles

        @Flag(name: .customLong("baud-timing"), help: "Charge every byte its time on the wire at 921600 baud, as the real UART would.")
        var baudTiming = false

        @Flag(help: "Print each command the chip handles on standard error.")
        var verbose = false

        @Option(name: .customLong("serial-fd"), help: ArgumentHelp("Serve this open descriptor instead of a new pty (the master of umockdev's fake /dev/ttyACM0).", valueName: "fd"))
        var serialDescriptor: Int32?

        @Option(help: ArgumentHelp("A FIFO (made if missing) where a harness writes the reset lines as 'dtr=0 rts=1' lines.", valueName: "path"))
        var control: String?

        @Option(help: ArgumentHelp("Also write the application's console to this file.", valueName: "file"))
        var console: String?

        @Option(help: ArgumentHelp("Inject a fault into this fraction of host frames (0 to 1): the frame is lost, a bit flips, or the answer comes late.", valueName: "rate"))
        var faults: Double?

        @Option(name: .customLong("fault-seed"), help: ArgumentHelp("The seed that chooses the faults, so a run replays.", valueName: "n"))
        var faultSeed: UInt64 = 1

        @Option(name: .customLong("fault-delay"), help: ArgumentHelp("How late a late answer comes, in seconds.", valueName: "seconds"))
        var faultDelay: Double = 2

        func run() throws {
            guard let chip = CC3220DeviceIdentity(named: identity) else {
                throw OtarigError("--identity '\(identity)' is not one the simulator plays: use cc3220sf or cc3200")
            }
            guard alertThreshold >= 1, alertThreshold <= 255 else { throw OtarigError("--alert-threshold \(alertThreshold) is out of range: 1 to 255") }
            let catalogDirectory = rootCatalog ?? boardFiles.path + "/cc3220-playground/catalog"
            let close = try SimulatedNetworkProcessor.signedClose(rootCatalog: catalogDirectory, explicit: rootCatalog != nil)
            let simulator: SimulatedCC3220SF
            do {
                let log: @Sendable (String) -> Void = { Console.error("otarig sim: \($0)") }
                let pty: PseudoTerminal
                if let serialDescriptor {
                    pty = try PseudoTerminal(existingMaster: serialDescriptor, name: "fd \(serialDescriptor)")
                    try pty.enablePacketMode()
                } else {
                    pty = try PseudoTerminal(packetMode: true)
                }
                simulator = try SimulatedCC3220SF(statePath: flash, identity: chip, pty: pty, signedClose: close, log: log)
            } catch {
                throw OtarigError("\(error)")
            }
            simulator.defaultCertificateName = defaultCertificate
            simulator.alertThreshold = alertThreshold
            simulator.rootCatalogDirectory = catalogDirectory
            let lines = try SimCommand.controlChannel(control)
            simulator.faults = try SimCommand.faults(rate: faults, seed: faultSeed, delay: faultDelay)
            simulator.console = try SimCommand.consoleWriter(console)
            simulator.simulateBaudRate = baudTiming
            simulator.verbose = verbose
            SimCommand.stopOnSignals()
            Console.out(simulator.pty.slavePath)
            Console.error("otarig sim: \(chip.name == "cc3200" ? "CC3200" : "CC3220SF") bootloader (\(simulator.fileSystem.names.count) files\(flash.map { " in '\($0)'" } ?? ""), roots from '\(catalogDirectory)') on \(simulator.pty.slavePath); stop with Ctrl-C")
            simulator.run(shouldStop: { stopRequested.load(ordering: .relaxed) }, control: lines.map { channel in { channel.read() } })
            Console.error("otarig sim: stopped")
        }
    }
}

/// The simulated CC3220SF's network processor: the C model of the signed close (Firmware/source/hil_simplelink.c,
/// through BoardSim's `SimpleLinkNWP`) over the simulator's file system and a root catalog read once at start.
enum SimulatedNetworkProcessor {
    static func signedClose(rootCatalog: String, explicit: Bool) throws -> SimpleLinkFileSystem.SignedClose {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootCatalog, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError(explicit
                ? "--root-catalog '\(rootCatalog)' is not a directory: pass a directory of PEM or DER root certificates"
                : "no root catalog at '\(rootCatalog)' (the board directory's cc3220-playground/catalog): pass --root-catalog DIR or --boards-dir")
        }
        let catalog: SimpleLinkNWP.Catalog
        do {
            catalog = try SimpleLinkNWP.Catalog.load(directory: rootCatalog)
        } catch {
            throw OtarigError("--root-catalog '\(rootCatalog)': \(error.message)")
        }
        return { file, certificateName, signature, fileSystem in
            var state = SimpleLinkNWP.State(securityAlerts: UInt32(fileSystem.securityAlerts), alertThreshold: UInt32(fileSystem.alertThreshold))
            let (code, _) = SimpleLinkNWP.close(file: file, certificateName: certificateName, signature: signature,
                                                lookup: { name in fileSystem.file(named: name)?.data }, catalog: catalog, state: &state)
            return code
        }
    }
}
