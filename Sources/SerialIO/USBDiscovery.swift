import CUdev
#if canImport(Glibc)
import Glibc
#endif

/// A serial port on a USB device, as udev describes it (the sysfs chain libudev walks, and systemd's
/// `rules.d/60-serial.rules` for the /dev/serial/by-id and by-path names): the tty node, the USB device's vendor,
/// product and serial, the interface the port belongs to, and the stable names udev gives it.
public struct USBSerialPort: Equatable, Sendable, Codable {
    public var devnode: String
    public var vendorID: UInt16
    public var productID: UInt16
    public var serial: String?
    public var interfaceNumber: Int?
    public var manufacturer: String?
    public var product: String?
    public var driver: String?
    /// udev's ID_PATH: where on the bus the device sits (stable for boards without a unique serial).
    public var usbPath: String?
    /// busnum-devpath, as labgrid and pyserial's LOCATION name it.
    public var location: String?
    public var symlinks: [String]

    public init(devnode: String, vendorID: UInt16, productID: UInt16, serial: String? = nil, interfaceNumber: Int? = nil,
                manufacturer: String? = nil, product: String? = nil, driver: String? = nil, usbPath: String? = nil,
                location: String? = nil, symlinks: [String] = []) {
        self.devnode = devnode
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
        self.interfaceNumber = interfaceNumber
        self.manufacturer = manufacturer
        self.product = product
        self.driver = driver
        self.usbPath = usbPath
        self.location = location
        self.symlinks = symlinks
    }
}

/// Enumerates USB serial ports through libudev.
public enum USBDiscovery {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func serialPorts() throws -> [USBSerialPort] {
        guard let udev = udev_new() else { throw Failure(description: "udev_new failed: is /sys mounted?") }
        defer { udev_unref(udev) }
        guard let enumerate = udev_enumerate_new(udev) else { throw Failure(description: "udev_enumerate_new failed") }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_subsystem(enumerate, "tty")
        udev_enumerate_scan_devices(enumerate)
        var ports: [USBSerialPort] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            defer { entry = udev_list_entry_get_next(current) }
            guard let syspath = udev_list_entry_get_name(current),
                  let device = udev_device_new_from_syspath(udev, syspath)
            else { continue }
            defer { udev_device_unref(device) }
            guard let port = describe(device) else { continue }
            ports.append(port)
        }
        return ports.sorted { $0.devnode < $1.devnode }
    }

    /// Waits until a port for which `matches` holds is attached (already, or by a udev "add" event: a board
    /// plugged in, or re-enumerating after a reset, as the USB-Serial/JTAG of an ESP32-S3 does). Nil on timeout.
    public static func waitForPort(timeout: Double, matching matches: (USBSerialPort) -> Bool) throws -> USBSerialPort? {
        guard let udev = udev_new() else { throw Failure(description: "udev_new failed: is /sys mounted?") }
        defer { udev_unref(udev) }
        // Listen before looking, so an add between the two is not lost.
        guard let monitor = udev_monitor_new_from_netlink(udev, "udev") else { throw Failure(description: "cannot open a udev monitor") }
        defer { udev_monitor_unref(monitor) }
        udev_monitor_filter_add_match_subsystem_devtype(monitor, "tty", nil)
        udev_monitor_enable_receiving(monitor)
        if let present = try serialPorts().first(where: matches) { return present }
        let descriptor = udev_monitor_get_fd(monitor)
        let start = MonotonicClock.now
        func elapsed() -> Double { MonotonicClock.now - start }
        while elapsed() < timeout {
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, (timeout - elapsed()) * 1000))
            guard poll(&descriptorSet, 1, min(left, 200)) > 0 else {
                // Some environments deliver no events; look again now and then.
                if let present = try serialPorts().first(where: matches) { return present }
                continue
            }
            guard let device = udev_monitor_receive_device(monitor) else { continue }
            defer { udev_device_unref(device) }
            guard string(udev_device_get_action(device)) == "add", let port = describe(device), matches(port) else { continue }
            return port
        }
        return nil
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A tty device with a USB device above it; nil for the console, ptys and other ttys.
    static func describe(_ device: OpaquePointer) -> USBSerialPort? {
        guard let devnode = string(udev_device_get_devnode(device)),
              let usb = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_device"),
              let vendor = string(udev_device_get_sysattr_value(usb, "idVendor")).flatMap({ UInt16($0, radix: 16) }),
              let product = string(udev_device_get_sysattr_value(usb, "idProduct")).flatMap({ UInt16($0, radix: 16) })
        else { return nil }
        let interface = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_interface")
        let interfaceNumber = (interface.flatMap { string(udev_device_get_sysattr_value($0, "bInterfaceNumber")) }
            ?? string(udev_device_get_property_value(device, "ID_USB_INTERFACE_NUM"))).flatMap { Int($0, radix: 16) }
        var symlinks: [String] = []
        var link = udev_device_get_devlinks_list_entry(device)
        while let current = link {
            if let name = string(udev_list_entry_get_name(current)) { symlinks.append(name) }
            link = udev_list_entry_get_next(current)
        }
        if symlinks.isEmpty, let links = string(udev_device_get_property_value(device, "DEVLINKS")) {
            symlinks = links.split(separator: " ").map(String.init)
        }
        let busnum = string(udev_device_get_sysattr_value(usb, "busnum"))
        let devpath = string(udev_device_get_sysattr_value(usb, "devpath"))
        return USBSerialPort(
            devnode: devnode, vendorID: vendor, productID: product,
            serial: string(udev_device_get_sysattr_value(usb, "serial")) ?? string(udev_device_get_property_value(device, "ID_SERIAL_SHORT")),
            interfaceNumber: interfaceNumber,
            manufacturer: string(udev_device_get_sysattr_value(usb, "manufacturer")),
            product: string(udev_device_get_sysattr_value(usb, "product")),
            driver: interface.flatMap { string(udev_device_get_driver($0)) } ?? string(udev_device_get_property_value(device, "ID_USB_DRIVER")),
            usbPath: string(udev_device_get_property_value(device, "ID_PATH")),
            location: busnum.flatMap { bus in devpath.map { "\(bus)-\($0)" } },
            symlinks: symlinks.sorted())
    }
}
