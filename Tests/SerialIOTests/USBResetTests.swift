import BoardModel
import SerialIO
import Testing

@Suite("USB reset: identity, matching and libusb's answers")
struct USBResetTests {
    // A CP2102 as udev describes it (Tests/peer/umockdev/cp2102-usbfs.umockdev is the same board).
    static let cp2102 = USBSerialPort(devnode: "/dev/ttyUSB0", vendorID: 0x10C4, productID: 0xEA60, serial: "0001", interfaceNumber: 0,
                                      usbPath: "pci-0000:00:14.0-usb-0:1:1.0")
    static let device = USBDeviceLocation(tty: "/dev/ttyUSB0", busNumber: 1, deviceAddress: 5,
                                          syspath: "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1",
                                          vendorID: 0x10C4, productID: 0xEA60, identity: USBIdentity(cp2102))

    static func port(_ devnode: String, serial: String?, interface: Int? = 0, path: String?, product: UInt16 = 0xEA60) -> USBSerialPort {
        USBSerialPort(devnode: devnode, vendorID: 0x10C4, productID: product, serial: serial, interfaceNumber: interface, usbPath: path)
    }

    @Test("the usbfs node is /dev/bus/usb/BBB/DDD with three digits each, and libusb's device is the one at that bus and address")
    func usbfsNode() {
        #expect(Self.device.usbfsNode == "/dev/bus/usb/001/005")
        var far = Self.device
        far.busNumber = 12
        far.deviceAddress = 127
        #expect(far.usbfsNode == "/dev/bus/usb/012/127")
        #expect(Self.device.isDevice(bus: 1, address: 5))
        #expect(!Self.device.isDevice(bus: 1, address: 6))
        #expect(!Self.device.isDevice(bus: 2, address: 5))
    }

    @Test("a board is recognised after a reset by its serial under another node, or by its ID_PATH, never by the node alone")
    func identityMatches() {
        let identity = USBIdentity(Self.cp2102)
        #expect(identity.matches(Self.port("/dev/ttyUSB1", serial: "0001", path: "pci-0000:00:14.0-usb-0:2:1.0")))
        #expect(identity.matches(Self.port("/dev/ttyUSB3", serial: nil, path: "pci-0000:00:14.0-usb-0:1:1.0")))
        #expect(!identity.matches(Self.port("/dev/ttyUSB0", serial: "0002", path: "pci-0000:00:14.0-usb-0:3:1.0")))
        // The same serial on another interface is the other port of a dual bridge, and another product is another board.
        #expect(!identity.matches(Self.port("/dev/ttyUSB1", serial: "0001", interface: 1, path: nil)))
        #expect(!identity.matches(Self.port("/dev/ttyUSB1", serial: "0001", path: nil, product: 0x6010)))
        #expect(!USBIdentity(serial: "", usbPath: nil).isKnown)
        #expect(USBIdentity(serial: nil, usbPath: "pci-0000:00:14.0-usb-0:1:1.0").isKnown)
    }

    @Test("among several ttys the one with the board's serial wins over one that only shares its ID_PATH")
    func findPrefersSerial() {
        let identity = USBIdentity(Self.cp2102)
        let samePlace = Self.port("/dev/ttyUSB0", serial: "9999", path: "pci-0000:00:14.0-usb-0:1:1.0")
        let sameBoard = Self.port("/dev/ttyUSB4", serial: "0001", path: "pci-0000:00:14.0-usb-0:4:1.0")
        #expect(identity.find(in: [samePlace, sameBoard])?.devnode == "/dev/ttyUSB4")
        #expect(identity.find(in: [samePlace])?.devnode == "/dev/ttyUSB0")
        #expect(identity.find(in: []) == nil)
    }

    @Test("libusb's answer to the reset: success is a reset, LIBUSB_ERROR_NOT_FOUND a re-enumeration, anything else an error naming it")
    func resetOutcome() throws {
        #expect(try USBResetError.outcome(ofReset: 0, errno: 0, device: Self.device).get() == .reset)
        #expect(try USBResetError.outcome(ofReset: -5, errno: 19, device: Self.device).get() == .reEnumerated)
        guard case .failure(let io) = USBResetError.outcome(ofReset: -99, errno: 5, device: Self.device) else {
            Issue.record("LIBUSB_ERROR_OTHER was taken as a success")
            return
        }
        #expect(io.code == .resetFailed)
        #expect(io.message.contains("LIBUSB_ERROR_OTHER") && io.message.contains("EIO (5)") && io.message.contains("/dev/ttyUSB0"), "\(io)")
        #expect(io.message.contains("/dev/bus/usb/001/005"), "\(io)")
    }

    @Test("a permission failure, from libusb_open or from the ioctl's errno, names the node and the udev rule that fixes it")
    func permissions() {
        let open = USBResetError.libusbFailure(step: "open", device: Self.device, libusbError: -3, errno: 13)
        #expect(open.code == .access)
        #expect(open.message.contains("LIBUSB_ERROR_ACCESS") && open.message.contains("EACCES (13)"), "\(open)")
        #expect(open.message.contains(#"ATTR{idVendor}=="10c4", ATTR{idProduct}=="ea60""#), "\(open)")
        #expect(open.message.contains("otarig boards udev-rules"), "\(open)")
        let ioctl = USBResetError.libusbFailure(step: "reset", device: Self.device, libusbError: -99, errno: 13)
        #expect(ioctl.code == .access)
        #expect(ioctl.message.contains("cannot reset") && ioctl.message.contains("LIBUSB_ERROR_OTHER, errno EACCES (13)"), "\(ioctl)")
    }

    @Test("error names: libusb's codes by name, an unknown one by number, errno by its symbol")
    func names() {
        #expect(USBErrorNames.libusb(-4) == "LIBUSB_ERROR_NO_DEVICE")
        #expect(USBErrorNames.libusb(-42) == "libusb error -42")
        #expect(USBErrorNames.errno(19) == "ENODEV (19)")
        #expect(USBErrorNames.errno(200) == "200")
    }

    @Test("after a re-enumeration only a tty on a new device address counts; after an in-place reset a present tty counts once settled")
    func returnRule() {
        let back = Self.port("/dev/ttyUSB1", serial: "0001", path: "pci-0000:00:14.0-usb-0:1:1.0")
        let reEnumerated = USBReturnRule(device: Self.device, outcome: .reEnumerated)
        #expect(reEnumerated.present([(Self.cp2102, 5)], elapsed: 3) == nil)
        #expect(reEnumerated.present([(Self.cp2102, 5), (back, 6)], elapsed: 0)?.devnode == "/dev/ttyUSB1")
        #expect(reEnumerated.present([(back, nil)], elapsed: 3) == nil)
        let inPlace = USBReturnRule(device: Self.device, outcome: .reset, settle: 0.5)
        #expect(inPlace.present([(Self.cp2102, 5)], elapsed: 0.1) == nil)
        #expect(inPlace.present([(Self.cp2102, 5)], elapsed: 0.6)?.devnode == "/dev/ttyUSB0")
        // A udev "add" of the board's tty counts at once; someone else's does not.
        #expect(inPlace.added(back, address: 5)?.devnode == "/dev/ttyUSB1")
        #expect(inPlace.added(Self.port("/dev/ttyUSB2", serial: "7777", path: nil), address: 9) == nil)
    }
}
