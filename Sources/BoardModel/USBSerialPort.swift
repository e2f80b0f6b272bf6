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

extension Board {
    /// Whether `port` is this board: `matches(vendorID:productID:interface:serial:path:)` on the port's facts.
    public func matches(_ port: USBSerialPort) -> Bool {
        matches(vendorID: port.vendorID, productID: port.productID, interface: port.interfaceNumber, serial: port.serial, path: port.usbPath)
    }
}
