import BoardModel

/// A USB serial port that is attached now, with the board files it matches.
public struct AttachedPort: Encodable, Equatable, Sendable {
    public var port: USBSerialPort
    /// The ids of the board files that match it (by vendor, product and interface, and serial or path when pinned).
    public var boards: [String]

    public init(port: USBSerialPort, boards: [String]) {
        self.port = port
        self.boards = boards
    }
}

/// Which attached port is which board: the resources a driver is bound to.
public enum BoardResolver {
    /// Why a board id does not name exactly one attached port.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Reason: Equatable, Sendable {
            case noBoardFile
            case notAttached
            case ambiguous(ports: [String])
        }

        public var board: String
        public var reason: Reason

        public var description: String {
            switch reason {
            case .noBoardFile:
                "no board file has id '\(board)'; 'ls Boards/' shows the ids"
            case .notAttached:
                "no attached board matches '\(board)'; 'otarig boards' lists what is attached and which board file each matches"
            case .ambiguous(let ports):
                "\(ports.count) attached boards match '\(board)' (\(ports.joined(separator: ", "))); pin one by its USB serial or path in a board file"
            }
        }
    }

    /// Each port with the board files that match it, in the order the ports came.
    public static func attached(_ ports: [USBSerialPort], boards: [Board]) -> [AttachedPort] {
        ports.map { port in AttachedPort(port: port, boards: boards.filter { $0.matches(port) }.map(\.id)) }
    }

    /// The one attached port the board file `id` matches.
    public static func port(for id: String, boards: [Board], ports: [USBSerialPort]) throws(Failure) -> (board: Board, port: USBSerialPort) {
        guard let board = boards.first(where: { $0.id == id }) else { throw Failure(board: id, reason: .noBoardFile) }
        let matching = ports.filter { board.matches($0) }
        guard let port = matching.first else { throw Failure(board: id, reason: .notAttached) }
        guard matching.count == 1 else { throw Failure(board: id, reason: .ambiguous(ports: matching.map(\.devnode))) }
        return (board, port)
    }
}
