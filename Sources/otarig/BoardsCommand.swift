import ArgumentParser
import BoardModel
import Foundation
import HILRunner
import SerialIO

/// Board files and what is attached.
struct BoardFiles: ParsableArguments {
    @Option(name: .customLong("boards-dir"), help: ArgumentHelp("Where the board files are. Default: $OTARIG_BOARDS, then ./Boards.", valueName: "dir"))
    var directory: String?

    var path: String { directory ?? ProcessInfo.processInfo.environment["OTARIG_BOARDS"] ?? "Boards" }

    /// Whether the board directory is there.
    var exists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func load() throws -> [Board] {
        let directory = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError("no board directory '\(directory)': pass --boards-dir (the repository's Boards/) or set OTARIG_BOARDS")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var boards: [Board] = []
        for name in names {
            let data = try Files.read(directory + "/" + name, what: "board file")
            do {
                boards.append(try Board.decode(String(decoding: data, as: UTF8.self), file: name))
            } catch {
                throw OtarigError("board file \(error.description)")
            }
        }
        return boards
    }
}

/// `otarig boards`: the USB serial ports attached, matched against the board files.
struct BoardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boards",
        abstract: "List the boards attached over USB, matched against the board files.",
        discussion: """
            Every tty on a USB device (libudev): its node, vendor:product, USB serial, interface number, bus \
            location, stable /dev/serial links, and the board file it matches (by vendor, product and interface, \
            and by serial or USB path when the file pins one board). Flash by the stable name, never by \
            /dev/ttyUSBn, which follows plug order; 'otarig boards udev-rules' prints rules that give each board a \
            name of its own.

            Examples:
              otarig boards
              otarig boards --json
              otarig boards udev-rules | sudo tee /etc/udev/rules.d/70-otarig.rules
            Exit status: 0 listed (even none), 2 bad input.
            """,
        subcommands: [List.self, UdevRules.self, Wait.self, Reset.self],
        defaultSubcommand: List.self
    )

    /// The USB serial ports attached now, each with the board files it matches.
    static func attached(_ files: BoardFiles) throws -> [AttachedPort] {
        let boards = try files.load()
        do {
            return BoardResolver.attached(try USBDiscovery.serialPorts(), boards: boards)
        } catch {
            throw OtarigError("cannot list USB devices: \(error)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List attached boards (the default).")

        @OptionGroup var files: BoardFiles

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let attached = try BoardsCommand.attached(files)
            if json {
                try JSONOutput.print(attached)
                return
            }
            guard !attached.isEmpty else {
                Console.out("no USB serial ports attached (simulated boards: otarig sim esp32, otarig sim cc3220sf)")
                return
            }
            Console.out("PORT          USB        SERIAL            IF  LOCATION   BOARD")
            for item in attached {
                let port = item.port
                let usb = "\(HILRunner.UdevRules.hex4(port.vendorID)):\(HILRunner.UdevRules.hex4(port.productID))"
                let interface = port.interfaceNumber.map { String($0) } ?? "-"
                let board = item.boards.isEmpty ? "(no board file matches)" : item.boards.joined(separator: ", ")
                Console.out(port.devnode.padding(toLength: 13, withPad: " ", startingAt: 0) + " " + usb + "  "
                            + (port.serial ?? "-").padding(toLength: 17, withPad: " ", startingAt: 0) + " " + interface.padding(toLength: 3, withPad: " ", startingAt: 0)
                            + " " + (port.location ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0) + " " + board)
                if let stable = port.symlinks.first(where: { $0.contains("/by-id/") }) ?? port.symlinks.first {
                    Console.out("              stable name: \(stable)")
                }
            }
        }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait until a board is attached (plugged in, or back after re-enumerating), then print its port.")

        @OptionGroup var files: BoardFiles

        @Argument(help: ArgumentHelp("The board-file id to wait for.", valueName: "id"))
        var board: String

        @Option(help: ArgumentHelp("Give up after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Double = 30

        func run() throws {
            guard let wanted = try files.load().first(where: { $0.id == board }) else {
                throw OtarigError("no board file has id '\(board)'; 'ls Boards/' shows the ids")
            }
            let port: USBSerialPort?
            do {
                port = try USBDiscovery.waitForPort(timeout: timeout) { wanted.matches($0) }
            } catch {
                throw OtarigError("cannot watch USB devices: \(error)")
            }
            guard let port else {
                Console.error("otarig: no '\(board)' appeared within \(Int(timeout)) s")
                throw ExitCode(1)
            }
            Console.out(port.devnode)
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset",
            abstract: "Reset a board's own USB device (as the rig's recovery does), wait for it to come back, and print its port.")

        @OptionGroup var files: BoardFiles

        @Option(help: ArgumentHelp("The board-file id of the attached board to reset (it must be the only one attached).", valueName: "id"))
        var board: String?

        @Option(help: ArgumentHelp("The board's tty (or one of its udev symlinks).", valueName: "dev"))
        var port: String?

        @Option(help: ArgumentHelp("Give up waiting for the board after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Double = 10

        func validate() throws {
            guard (board == nil) != (port == nil) else { throw ValidationError("pass either --board ID or --port DEV") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func run() throws {
            let tty: String
            if let port {
                tty = port
            } else {
                let matching = try BoardsCommand.attached(files).filter { $0.boards.contains(board ?? "") }
                guard matching.count == 1, let only = matching.first else {
                    throw OtarigError(matching.isEmpty ? "no attached board matches '\(board ?? "")' ('otarig boards list' shows what is attached)"
                                                       : "\(matching.count) attached boards match '\(board ?? "")'; pass --port DEV")
                }
                tty = only.port.devnode
            }
            let report: USBResetReport
            do {
                report = try USBReset.resetAndWait(tty: tty, timeout: timeout)
            } catch let error as USBResetError {
                Console.error("otarig: \(error.message)")
                throw ExitCode(1)
            }
            let how = report.outcome == .reset ? "reset" : "reset (it re-enumerated)"
            Console.error("otarig: \(report.device): \(how); back on \(report.port.devnode) after \(String(format: "%.1f", report.waited)) s")
            Console.out(report.port.devnode)
        }
    }

    struct UdevRules: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "udev-rules",
            abstract: "Print udev rules giving each attached board a stable /dev/otarig/<board>-<serial> name.")

        @OptionGroup var files: BoardFiles

        func run() throws {
            for line in HILRunner.UdevRules.render(try BoardsCommand.attached(files)) { Console.out(line) }
        }
    }
}
