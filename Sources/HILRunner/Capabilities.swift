import FlashProtocol
import Foundation

// The capabilities a board offers the rig, each a small protocol in labgrid's sense: resources are facts about the
// wiring (a board file, a port), capabilities are what can be done with them, and a driver binds the two
// (`BoardDriver`). HILRunner never opens a port itself: the executable hands it a `Transport` over a serial port,
// a simulated board's pty, or memory.

/// Why a transport could not move bytes or set a line.
public struct TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Bytes both ways plus the control lines of a UART: a USB-serial adapter, a pty (no modem lines, no BREAK), or a
/// simulated chip in memory (with a virtual clock). It also owns the clock its timeouts run on, so the code above
/// it reads none.
public protocol Transport: AnyObject {
    /// For messages: the port's path, or what the transport is.
    var name: String { get }
    func send(_ bytes: [UInt8]) throws
    /// What arrives within `timeout` seconds (returning as soon as something came); empty when nothing did.
    func receive(timeout: Double) -> [UInt8]
    /// Switches the host side of the UART (after the chip was told to).
    func setBaudRate(_ rate: Int) throws
    /// Drives DTR and RTS together (true = asserted). False when there are no modem lines (a plain pty).
    func setLines(dtr: Bool, rts: Bool) -> Bool
    /// Holds the line in BREAK for `seconds` (how the CC3220's bootloader is entered). False when it cannot.
    func sendBreak(seconds: Double) -> Bool
    /// Drops what arrived and nobody read, as a host does right before a BREAK (a simulated CC3220 on a pty sees this
    /// flush, since the BREAK itself cannot cross a pty).
    func discardInput()
    /// Monotonic seconds on the transport's clock.
    var now: Double { get }
    /// Lets `seconds` pass on the transport's clock (a real sleep, or a virtual clock's step).
    func sleep(seconds: Double)
}

extension Transport {
    /// Transports with nothing buffered outside what `receive` returns have nothing to drop.
    public func discardInput() {}
}

/// One line a board printed, with the time it was complete on the console's clock.
public struct ConsoleLine: Equatable, Sendable {
    public var time: Double
    public var text: String

    public init(time: Double, text: String) {
        self.time = time
        self.text = text
    }
}

/// A board's console: lines in, each with its timestamp.
public protocol Console: AnyObject {
    /// The next complete line, waiting until `deadline` on the console's clock; nil when none came by then.
    func nextLine(until deadline: Double) -> ConsoleLine?
}

/// The lines that reset a board or put it into its bootloader, driven by named sequences.
public protocol ResetLines: AnyObject {
    /// Runs a named sequence; false when the wiring cannot (a pty has no modem lines), which callers report once.
    func perform(_ sequence: ResetSequence) -> Bool
}

/// Where an image goes on a board: an offset in raw flash (ESP32), or a file in the board's file system (CC3220SF).
public enum FlashLocation: Hashable, Sendable, CustomStringConvertible {
    case offset(Int)
    case file(String)

    public var description: String {
        switch self {
        case .offset(let offset): "0x" + String(offset, radix: 16)
        case .file(let name): name
        }
    }
}

/// An image to write: its bytes, where they go, and a name for messages (usually its path).
public struct FlashImage: Sendable {
    public var name: String
    public var location: FlashLocation
    public var bytes: [UInt8]

    public init(name: String, location: FlashLocation, bytes: [UInt8]) {
        self.name = name
        self.location = location
        self.bytes = bytes
    }
}

/// What a FreeRTOS device holds when an OTA download completes: the image, the job document it came with (bare
/// afr_ota or the execution message, as bytes), and the certificates to provision under their certfile names.
public struct OTAUpdate: Sendable {
    public var name: String
    public var image: [UInt8]
    public var jobDocument: [UInt8]
    /// Certificate files by the name the job's certfile uses (PEM text or DER bytes, as the board keeps them).
    public var certificates: [String: [UInt8]]
    /// The revocation list to provision beside the certificates (for a device whose policy checks revocation);
    /// its signer's certificate goes in `certificates` under `RevocationList.signerCertificateLabel`.
    public var revocationList: [UInt8]?
    /// The device's trusted time as the rig sets its RTC before the update; nil: the device has none.
    public var deviceTime: Date?

    public init(name: String, image: [UInt8], jobDocument: [UInt8], certificates: [String: [UInt8]], revocationList: [UInt8]? = nil,
                deviceTime: Date? = nil) {
        self.name = name
        self.image = image
        self.jobDocument = jobDocument
        self.certificates = certificates
        self.revocationList = revocationList
        self.deviceTime = deviceTime
    }
}

/// Where an OTA update was put, and what the device said when it could already say it (a CC3220SF checks the
/// signature when the file is closed; an ESP32 only after it boots).
public struct StagedUpdate: Equatable, Sendable {
    /// Where the image went: a slot ("ota_1") or a file name.
    public var location: String
    public var offset: Int?
    /// The device's status at close, when it gives one then.
    public var closeStatus: UInt32?

    public init(location: String, offset: Int? = nil, closeStatus: UInt32? = nil) {
        self.location = location
        self.offset = offset
        self.closeStatus = closeStatus
    }
}

/// Writes, verifies and reads images on a board and stages OTA updates, through whatever loader the board has.
/// A board that cannot do one of these (a QEMU board has no raw flash access over its UART) throws
/// `FlashError.unsupported`.
public protocol Flasher: AnyObject {
    /// Events as the work goes (connected, progress, written, …), for progress bars and reports.
    var onEvent: ((FlashEvent) -> Void)? { get set }
    /// Talks to the board's loader until it answers, identifies the chip and gets it ready for writes (an ESP32:
    /// SYNC, the magic register, SPI attach); returns the chip's name.
    func open() throws(FlashError) -> String
    /// Moves the link to `rate` baud, the chip first and then the host (a loader that runs at one rate throws
    /// `unsupported`).
    func changeBaudRate(_ rate: Int) throws(FlashError)
    /// Writes an image and checks it on the device.
    func write(_ image: FlashImage, compress: Bool) throws(FlashError)
    /// Compares the device with an image without writing.
    func verify(_ image: FlashImage) throws(FlashError)
    /// Reads back a region or a file.
    func read(_ location: FlashLocation, length: Int) throws(FlashError) -> [UInt8]
    /// Puts an OTA update where the device's OTA agent finds it.
    func stage(_ update: OTAUpdate, compress: Bool) throws(FlashError) -> StagedUpdate
    /// Leaves the loader and starts the application.
    func runApplication() throws(FlashError)
}

/// Power to a board, where the bench can switch it (a USB hub port, a relay). Optional: most benches reset instead.
public protocol PowerControl: AnyObject {
    func powerOff() throws(TransportError)
    func powerOn() throws(TransportError)
}

/// One step of flashing, as it happens: what a progress bar shows and a report is built from.
public enum FlashEvent: Equatable, Sendable {
    /// A reset sequence was driven (false: the transport has no lines, nothing happened).
    case reset(ResetSequence, performed: Bool)
    case connected(chip: String)
    case flashAttached(size: Int)
    case baudRateChanged(Int)
    /// Bytes of `total` done for the image or region being written or read.
    case progress(name: String, done: Int, total: Int)
    case wrote(name: String, location: FlashLocation, size: Int, md5: String, seconds: Double)
    case verified(name: String, location: FlashLocation, size: Int, md5: String)
    case read(location: FlashLocation, size: Int)
    case staged(name: String, StagedUpdate)
    case applicationStarted
    /// A retry after a fault on the wire (the step, the attempt that failed, why).
    case retried(step: String, attempt: Int, reason: String)
}
