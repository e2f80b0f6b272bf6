import BoardModel

// The pure half of a USB reset: who a board is, where its USB device sits, and what libusb's answer means. No
// devices here, so the rules can be tested without a bench; `USBReset` does the I/O.

/// The USB device a tty belongs to, as udev describes it.
public struct USBDeviceLocation: Sendable, Equatable, CustomStringConvertible {
    /// The tty the device was found from (`/dev/ttyUSB0`).
    public var tty: String
    /// sysfs `busnum`: the bus number libusb reports for the device.
    public var busNumber: UInt8
    /// sysfs `devnum`: the address the device has on its bus now (it changes when the device re-enumerates).
    public var deviceAddress: UInt8
    /// The device's sysfs path (`/sys/devices/…/usb1/1-1`).
    public var syspath: String
    public var vendorID: UInt16
    public var productID: UInt16
    /// Who the board is across a re-enumeration: the device's serial, the tty's interface and its ID_PATH.
    public var identity: USBIdentity

    public init(tty: String, busNumber: UInt8, deviceAddress: UInt8, syspath: String, vendorID: UInt16, productID: UInt16,
                identity: USBIdentity) {
        self.tty = tty
        self.busNumber = busNumber
        self.deviceAddress = deviceAddress
        self.syspath = syspath
        self.vendorID = vendorID
        self.productID = productID
        self.identity = identity
    }

    /// The usbfs node libusb opens for the device: `/dev/bus/usb/BBB/DDD` (the Linux kernel's devtmpfs naming).
    public var usbfsNode: String {
        "/dev/bus/usb/\(Self.threeDigits(busNumber))/\(Self.threeDigits(deviceAddress))"
    }

    /// Whether a device libusb lists (by its bus number and address) is this one.
    public func isDevice(bus: UInt8, address: UInt8) -> Bool {
        bus == busNumber && address == deviceAddress
    }

    public var description: String {
        "\(tty) (USB \(USBIdentity.hex4(vendorID)):\(USBIdentity.hex4(productID)) bus \(busNumber) device \(deviceAddress), \(usbfsNode))"
    }

    static func threeDigits(_ value: UInt8) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

/// Who a board is, in the terms that survive a USB re-enumeration: the device's serial number (with the tty's
/// interface, for bridges with several ports) or, for devices without a serial, udev's ID_PATH (the port it is
/// plugged into). A tty node such as `/dev/ttyUSB0` is never an identity: it follows plug order.
public struct USBIdentity: Sendable, Equatable, CustomStringConvertible {
    public var serial: String?
    public var interfaceNumber: Int?
    /// udev's ID_PATH of the tty (`pci-0000:00:14.0-usb-0:1:1.0`).
    public var usbPath: String?
    public var vendorID: UInt16?
    public var productID: UInt16?

    public init(serial: String?, interfaceNumber: Int? = nil, usbPath: String?, vendorID: UInt16? = nil, productID: UInt16? = nil) {
        self.serial = serial.flatMap { $0.isEmpty ? nil : $0 }
        self.interfaceNumber = interfaceNumber
        self.usbPath = usbPath.flatMap { $0.isEmpty ? nil : $0 }
        self.vendorID = vendorID
        self.productID = productID
    }

    /// The identity of a port udev listed.
    public init(_ port: USBSerialPort) {
        self.init(serial: port.serial, interfaceNumber: port.interfaceNumber, usbPath: port.usbPath,
                  vendorID: port.vendorID, productID: port.productID)
    }

    /// False when there is nothing to recognise the board by once it is gone.
    public var isKnown: Bool { serial != nil || usbPath != nil }

    /// Whether `port` is this board: the same serial (and the same interface and USB ids where both are known), or
    /// the same ID_PATH.
    public func matches(_ port: USBSerialPort) -> Bool {
        if let serial, port.serial == serial {
            let sameInterface = interfaceNumber == nil || port.interfaceNumber == nil || interfaceNumber == port.interfaceNumber
            let sameIDs = (vendorID.map { $0 == port.vendorID } ?? true) && (productID.map { $0 == port.productID } ?? true)
            if sameInterface && sameIDs { return true }
        }
        if let usbPath, port.usbPath == usbPath { return true }
        return false
    }

    /// The port among `ports` that is this board: one matching by serial first, then one by ID_PATH; nil if none.
    public func find(in ports: [USBSerialPort]) -> USBSerialPort? {
        let matching = ports.filter(matches)
        return matching.first { serial != nil && $0.serial == serial } ?? matching.first
    }

    public var description: String {
        var parts: [String] = []
        if let serial { parts.append("serial \(serial)" + (interfaceNumber.map { " interface \($0)" } ?? "")) }
        if let usbPath { parts.append("ID_PATH \(usbPath)") }
        return parts.isEmpty ? "no serial and no ID_PATH" : parts.joined(separator: ", ")
    }

    static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// How a reset went, when it went: libusb reset the device in place, or the device re-enumerated under the reset
/// (libusb's `LIBUSB_ERROR_NOT_FOUND`: its old address is gone), which is also a reset.
public enum USBResetOutcome: String, Sendable, Equatable {
    case reset
    case reEnumerated = "re-enumerated"
}

/// What a USB reset did: the device it reset, how, and the tty the board came back on.
public struct USBResetReport: Sendable, Equatable {
    public var device: USBDeviceLocation
    public var outcome: USBResetOutcome
    /// The board's tty after the reset (a new node when it re-enumerated under another name).
    public var port: USBSerialPort
    /// Seconds from the reset until the tty was back.
    public var waited: Double

    public init(device: USBDeviceLocation, outcome: USBResetOutcome, port: USBSerialPort, waited: Double) {
        self.device = device
        self.outcome = outcome
        self.port = port
        self.waited = waited
    }

    /// True when the board's tty has another node than before.
    public var nodeChanged: Bool { port.devnode != device.tty }
}

/// Why a USB reset could not be done. Each message names the device, what failed, and what to do about it.
public struct USBResetError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The node is not a tty with a USB device above it (a pty, a built-in UART, a missing node).
        case notUSB = "usb.not-usb"
        /// libusb could not start or list devices.
        case libusb = "usb.libusb"
        /// libusb does not list the device udev named (it went away between the two looks).
        case notListed = "usb.not-listed"
        /// The device node may not be opened by this user.
        case access = "usb.access"
        /// The device node could be opened but the reset failed.
        case resetFailed = "usb.reset-failed"
        /// The board's tty did not come back in time.
        case didNotReturn = "usb.did-not-return"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The error for a failed `libusb_open` or `libusb_reset_device`: libusb's error name, the errno behind it where
    /// there is one, and the fix. `LIBUSB_ERROR_ACCESS` (or EACCES/EPERM) is a permissions problem on the usbfs node.
    public static func libusbFailure(step: String, device: USBDeviceLocation, libusbError: Int32, errno: Int32) -> USBResetError {
        let name = USBErrorNames.libusb(libusbError)
        let cause = errno == 0 ? name : "\(name), errno \(USBErrorNames.errno(errno))"
        let denied = libusbError == -3 || errno == 13 || errno == 1  // LIBUSB_ERROR_ACCESS, EACCES, EPERM
        if denied {
            let vid = USBIdentity.hex4(device.vendorID), pid = USBIdentity.hex4(device.productID)
            return USBResetError(.access, """
                cannot \(step) the USB device of \(device): \(cause): this user may not write to \(device.usbfsNode). \
                Grant it with a udev rule such as SUBSYSTEM=="usb", ATTR{idVendor}=="\(vid)", ATTR{idProduct}=="\(pid)", \
                MODE="0660", GROUP="plugdev" next to the board rules that 'otarig boards udev-rules' prints \
                (/etc/udev/rules.d/70-otarig.rules), then 'udevadm control --reload' and re-plug the board, \
                or run the rig as a member of that group
                """)
        }
        return USBResetError(step == "open" ? .libusb : .resetFailed,
                             "cannot \(step) the USB device of \(device): \(cause); is the board still attached? ('otarig boards list')")
    }

    /// What `libusb_reset_device` returned, as an outcome or an error: 0 is a reset, `LIBUSB_ERROR_NOT_FOUND` a
    /// re-enumeration (libusb documents that the device must then be found again), anything else an error.
    public static func outcome(ofReset result: Int32, errno: Int32, device: USBDeviceLocation) -> Result<USBResetOutcome, USBResetError> {
        switch result {
        case 0: .success(.reset)
        case -5: .success(.reEnumerated)  // LIBUSB_ERROR_NOT_FOUND
        default: .failure(libusbFailure(step: "reset", device: device, libusbError: result, errno: errno))
        }
    }
}

/// libusb's and errno's names for the codes a reset meets, so messages say `LIBUSB_ERROR_ACCESS` and `EACCES`.
public enum USBErrorNames {
    /// libusb's name for one of its `libusb_error` codes (libusb 1.0 API reference, "Miscellaneous").
    public static func libusb(_ code: Int32) -> String {
        switch code {
        case 0: "LIBUSB_SUCCESS"
        case -1: "LIBUSB_ERROR_IO"
        case -2: "LIBUSB_ERROR_INVALID_PARAM"
        case -3: "LIBUSB_ERROR_ACCESS"
        case -4: "LIBUSB_ERROR_NO_DEVICE"
        case -5: "LIBUSB_ERROR_NOT_FOUND"
        case -6: "LIBUSB_ERROR_BUSY"
        case -7: "LIBUSB_ERROR_TIMEOUT"
        case -8: "LIBUSB_ERROR_OVERFLOW"
        case -9: "LIBUSB_ERROR_PIPE"
        case -10: "LIBUSB_ERROR_INTERRUPTED"
        case -11: "LIBUSB_ERROR_NO_MEM"
        case -12: "LIBUSB_ERROR_NOT_SUPPORTED"
        case -99: "LIBUSB_ERROR_OTHER"
        default: "libusb error \(code)"
        }
    }

    /// The symbolic name of an errno a usbfs ioctl or open returns on Linux, with its number.
    public static func errno(_ code: Int32) -> String {
        let names: [Int32: String] = [
            1: "EPERM", 2: "ENOENT", 4: "EINTR", 5: "EIO", 13: "EACCES", 16: "EBUSY", 19: "ENODEV", 22: "EINVAL",
            25: "ENOTTY", 71: "EPROTO", 110: "ETIMEDOUT",
        ]
        return names[code].map { "\($0) (\(code))" } ?? "\(code)"
    }
}
