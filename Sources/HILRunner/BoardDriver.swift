import BoardModel

/// A board file bound to a transport: the capabilities the rig can use on that board. The executable opens the
/// transport (a serial port, a simulated board's pty, memory) and `BoardDrivers.driver(for:transport:)` picks the
/// driver the board's chip needs.
public protocol BoardDriver: AnyObject {
    var board: Board { get }
    var transport: any Transport { get }
    /// Nil when the board has no reset lines the rig drives (a QEMU board; a board reset by hand).
    var resetLines: (any ResetLines)? { get }
    var flasher: any Flasher { get }
    /// Nil when the board's console is not on this transport.
    var console: (any Console)? { get }
    var power: (any PowerControl)? { get }
}
