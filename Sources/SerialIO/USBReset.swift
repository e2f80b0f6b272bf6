import BoardModel
import CUSB
import CUdev
#if canImport(Glibc)
import Glibc
#endif

/// Resets the USB device behind a tty and waits for the board to come back: udev names the device (the tty's
/// `usb_device` parent), libusb resets it (`libusb_reset_device`, which issues the kernel's USBDEVFS_RESET on
/// `/dev/bus/usb/BBB/DDD`), and udev says when a tty of the same board (its `USBIdentity`) exists again.
public enum USBReset {
    /// The USB device above `tty` (a node such as `/dev/ttyUSB0` or one of its udev symlinks).
    public static func device(forTTY tty: String) throws -> USBDeviceLocation {
        guard let udev = udev_new() else { throw USBResetError(.notUSB, "udev_new failed: is /sys mounted?") }
        defer { udev_unref(udev) }
        guard let found = try ttys(udev).first(where: { $0.port.devnode == tty || $0.port.symlinks.contains(tty) }) else {
            throw USBResetError(.notUSB, "\(tty) is not a USB serial port udev knows (a pty, a built-in UART or a board that is not attached cannot be USB-reset; 'otarig boards list' shows the USB ones)")
        }
        guard let location = found.location else {
            throw USBResetError(.notUSB, "\(tty): its USB device has no busnum/devnum in sysfs, so libusb cannot be pointed at it")
        }
        return location
    }

    /// Resets `device` through libusb. A device that re-enumerates under the reset is reported as such, not as an
    /// error; a device that cannot be opened or reset throws with libusb's error name, the errno and the fix.
    public static func reset(_ device: USBDeviceLocation) throws -> USBResetOutcome {
        var context: OpaquePointer?
        let started = libusb_init(&context)
        guard started == 0, let context else {
            throw USBResetError(.libusb, "cannot start libusb to reset \(device): \(USBErrorNames.libusb(started))")
        }
        defer { libusb_exit(context) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else {
            throw USBResetError(.libusb, "libusb cannot list USB devices to reset \(device): \(USBErrorNames.libusb(Int32(truncatingIfNeeded: count)))")
        }
        defer { libusb_free_device_list(list, 1) }
        var target: OpaquePointer?
        for index in 0..<count {
            guard let candidate = list[index] else { continue }
            if device.isDevice(bus: libusb_get_bus_number(candidate), address: libusb_get_device_address(candidate)) {
                target = candidate
                break
            }
        }
        guard let target else {
            throw USBResetError(.notListed, "libusb lists no device at bus \(device.busNumber) address \(device.deviceAddress) for \(device): it was unplugged or re-enumerated just now; look again with 'otarig boards list'")
        }
        var handle: OpaquePointer?
        Glibc.errno = 0
        let opened = libusb_open(target, &handle)
        let openErrno = Glibc.errno
        guard opened == 0, let handle else {
            throw USBResetError.libusbFailure(step: "open", device: device, libusbError: opened, errno: opened == 0 ? 0 : openErrno)
        }
        defer { libusb_close(handle) }
        Glibc.errno = 0
        let result = libusb_reset_device(handle)
        let resetErrno = Glibc.errno
        return try USBResetError.outcome(ofReset: result, errno: result == 0 ? 0 : resetErrno, device: device).get()
    }

    /// Resets the USB device behind `tty` and waits up to `timeout` seconds for the board's tty to exist again
    /// (found by its identity, so a new node such as `/dev/ttyUSB1` is followed).
    public static func resetAndWait(tty: String, timeout: Double) throws -> USBResetReport {
        let device = try device(forTTY: tty)
        guard device.identity.isKnown else {
            throw USBResetError(.notUSB, "\(device) has neither a USB serial nor an ID_PATH, so it could not be recognised after a reset")
        }
        guard let udev = udev_new() else { throw USBResetError(.libusb, "udev_new failed: is /sys mounted?") }
        defer { udev_unref(udev) }
        // Listen before resetting, so the board's "add" is not missed.
        let monitor = udev_monitor_new_from_netlink(udev, "udev")
        defer { if let monitor { udev_monitor_unref(monitor) } }
        if let monitor {
            udev_monitor_filter_add_match_subsystem_devtype(monitor, "tty", nil)
            udev_monitor_enable_receiving(monitor)
        }
        let outcome = try reset(device)
        let start = MonotonicClock.now
        let rule = USBReturnRule(device: device, outcome: outcome)
        while true {
            let elapsed = MonotonicClock.now - start
            if let monitor {
                var descriptor = pollfd(fd: udev_monitor_get_fd(monitor), events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, 100) > 0, let event = udev_monitor_receive_device(monitor) {
                    defer { udev_device_unref(event) }
                    if USBDiscovery.string(udev_device_get_action(event)) == "add", let seen = describe(event),
                       let port = rule.added(seen.port, address: seen.location?.deviceAddress) {
                        return USBResetReport(device: device, outcome: outcome, port: port, waited: MonotonicClock.now - start)
                    }
                }
            } else {
                usleep(100_000)
            }
            let present = try ttys(udev).map { ($0.port, $0.location?.deviceAddress) }
            if let port = rule.present(present, elapsed: MonotonicClock.now - start) {
                return USBResetReport(device: device, outcome: outcome, port: port, waited: MonotonicClock.now - start)
            }
            if elapsed >= timeout {
                throw USBResetError(.didNotReturn, "the USB device of \(device) was \(outcome == .reset ? "reset" : "reset and re-enumerated"), but no tty of the board (\(device.identity)) came back within \(Int(timeout.rounded(.up))) s; check 'dmesg' and 'otarig boards list'")
            }
        }
    }

    // MARK: udev

    struct TTY {
        var port: USBSerialPort
        var location: USBDeviceLocation?
    }

    static func ttys(_ udev: OpaquePointer) throws -> [TTY] {
        guard let enumerate = udev_enumerate_new(udev) else { throw USBResetError(.libusb, "udev_enumerate_new failed") }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_subsystem(enumerate, "tty")
        udev_enumerate_scan_devices(enumerate)
        var found: [TTY] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            defer { entry = udev_list_entry_get_next(current) }
            guard let syspath = udev_list_entry_get_name(current), let device = udev_device_new_from_syspath(udev, syspath) else { continue }
            defer { udev_device_unref(device) }
            if let tty = describe(device) { found.append(tty) }
        }
        return found.sorted { $0.port.devnode < $1.port.devnode }
    }

    /// A tty with its USB device: the port as `USBDiscovery` describes it, and where its `usb_device` parent is.
    static func describe(_ device: OpaquePointer) -> TTY? {
        guard let port = USBDiscovery.describe(device) else { return nil }
        guard let usb = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_device"),
              let bus = USBDiscovery.string(udev_device_get_sysattr_value(usb, "busnum")).flatMap({ UInt8($0.trimmingSpaces) }),
              let address = USBDiscovery.string(udev_device_get_sysattr_value(usb, "devnum")).flatMap({ UInt8($0.trimmingSpaces) }),
              let syspath = USBDiscovery.string(udev_device_get_syspath(usb))
        else { return TTY(port: port, location: nil) }
        return TTY(port: port, location: USBDeviceLocation(
            tty: port.devnode, busNumber: bus, deviceAddress: address, syspath: syspath,
            vendorID: port.vendorID, productID: port.productID, identity: USBIdentity(port)))
    }
}

/// When a board counts as back after a USB reset (pure: the owner feeds it what udev shows). A udev "add" of a tty
/// of the board is enough. Without one, a tty of the board that is merely present counts only once it cannot be the
/// old one: after a re-enumeration its device must have a new address; after an in-place reset the kernel rebinds
/// the driver before the reset returns, so a present tty counts after `settle` seconds.
public struct USBReturnRule: Sendable {
    public let device: USBDeviceLocation
    public let outcome: USBResetOutcome
    /// Seconds to let the old tty go away after an in-place reset before a present one counts.
    public let settle: Double

    public init(device: USBDeviceLocation, outcome: USBResetOutcome, settle: Double = 0.5) {
        self.device = device
        self.outcome = outcome
        self.settle = settle
    }

    /// A tty was added (`address`: its USB device's address, when known): the board's port if it is the board's.
    public func added(_ port: USBSerialPort, address: UInt8?) -> USBSerialPort? {
        device.identity.matches(port) ? port : nil
    }

    /// The ttys present now, each with its USB device's address: the board's port once it counts as back.
    public func present(_ ports: [(USBSerialPort, UInt8?)], elapsed: Double) -> USBSerialPort? {
        let fresh = ports.filter { port, address in
            switch outcome {
            case .reEnumerated: address != nil && address != device.deviceAddress
            case .reset: elapsed >= settle
            }
        }
        return device.identity.find(in: fresh.map(\.0))
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " || text.last == "\n" { text = text.dropLast() }
        return String(text)
    }
}
