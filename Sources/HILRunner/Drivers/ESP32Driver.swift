import BoardModel
import FlashProtocol

/// An ESP32 board (DevKitC, WROVER-KIT, ESP32-S3 on USB-Serial/JTAG, the simulated one) bound to its transport: the
/// ROM loader's flasher, the DTR/RTS reset lines, and the console on the same UART once the loader is left.
public final class ESP32Driver: BoardDriver {
    public let board: Board
    public let transport: any Transport
    public let flasher: any Flasher
    public let resetLines: (any ResetLines)?
    public let console: (any Console)?
    public let power: (any PowerControl)? = nil

    public init(board: Board, transport: any Transport) {
        self.board = board
        self.transport = transport
        flasher = ESP32Flasher(transport: transport)
        resetLines = board.reset == .manual ? nil : TransportResetLines(transport: transport)
        console = TransportConsole(transport: transport)
    }
}

/// Picks the driver a board file's chip needs (house rule: a new board is a YAML file; a new chip family, a driver).
public enum BoardDrivers {
    /// Why no driver can take a board.
    public struct Unsupported: Error, Equatable, Sendable, CustomStringConvertible {
        public var board: String
        public var chip: Board.Chip
        public var description: String {
            "board '\(board)' carries a \(chip.rawValue), which otarig cannot flash yet (it flashes ESP32 and CC3220SF boards)"
        }
    }

    public static func driver(for board: Board, transport: any Transport) throws(Unsupported) -> any BoardDriver {
        switch board.chip {
        case .esp32, .esp32s3: return ESP32Driver(board: board, transport: transport)
        case .cc3220sf: return CC3220Driver(board: board, transport: transport)
        }
    }
}

/// A CC3220SF board (the LaunchPad, the simulated one) bound to its transport: the ROM bootloader's flasher and the
/// console on the same UART once the application runs. On a LaunchPad nRESET and SOP2 are not on the UART's modem
/// lines (the reset is the XDS110's SRST or the button, SOP2 a jumper), so there are no reset lines to drive; a board
/// wired `nreset-sop2` (DTR to nRESET, RTS to SOP2, as the simulated one through its control FIFO) has them.
public final class CC3220Driver: BoardDriver {
    public let board: Board
    public let transport: any Transport
    public let flasher: any Flasher
    public let resetLines: (any ResetLines)?
    public let console: (any Console)?
    public let power: (any PowerControl)? = nil

    public init(board: Board, transport: any Transport) {
        self.board = board
        self.transport = transport
        let flasher = CC3220Flasher(transport: transport)
        flasher.signatureKey = board.firmware.signatureKey
        self.flasher = flasher
        resetLines = board.reset == .nresetSOP2 ? TransportResetLines(transport: transport) : nil
        console = TransportConsole(transport: transport)
    }
}
