import BoardModel

/// udev rules that give each attached board a name of its own, `/dev/otarig/<board>-<serial or location>`, so a
/// bench never depends on /dev/ttyUSBn (which follows plug order).
public enum UdevRules {
    /// The rules file's lines for the ports that match a board file (the first id when several match).
    public static func render(_ attached: [AttachedPort]) -> [String] {
        var lines = [
            "# otarig: stable names for the boards attached now (otarig boards udev-rules). Install into",
            "# /etc/udev/rules.d/70-otarig.rules, then: udevadm control --reload && udevadm trigger",
        ]
        let matched = attached.filter { !$0.boards.isEmpty }
        if matched.isEmpty { lines.append("# (no attached port matches a board file)") }
        for item in matched {
            let port = item.port
            var match = #"SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="\#(hex4(port.vendorID))", ENV{ID_MODEL_ID}=="\#(hex4(port.productID))""#
            if let interface = port.interfaceNumber { match += #", ENV{ID_USB_INTERFACE_NUM}=="\#(hex2(interface))""# }
            let suffix: String
            if let serial = port.serial {
                match += #", ENV{ID_SERIAL_SHORT}=="\#(serial)""#
                suffix = serial.filter { $0.isLetter || $0.isNumber || $0 == "-" }
            } else if let path = port.usbPath {
                match += #", ENV{ID_PATH}=="\#(path)""#
                suffix = String((port.location ?? "path").map { $0 == "." ? "_" : $0 })
            } else {
                lines.append("# \(port.devnode): no USB serial and no ID_PATH; skipped")
                continue
            }
            lines.append(match + #", SYMLINK+="otarig/\#(item.boards[0])-\#(suffix)""#)
        }
        // The recovery ladder's USB reset opens the board's usb_device node (/dev/bus/usb/BBB/DDD) through libusb,
        // which needs write access to it: one rule per board type, for the plugdev group.
        var types: Set<String> = []
        for item in matched {
            let key = "\(hex4(item.port.vendorID)):\(hex4(item.port.productID))"
            guard types.insert(key).inserted else { continue }
            lines.append(#"SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="\#(hex4(item.port.vendorID))", ATTR{idProduct}=="\#(hex4(item.port.productID))", MODE="0664", GROUP="plugdev""#)
        }
        return lines
    }

    /// Four lower-case hex digits, as udev writes USB ids.
    public static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    static func hex2(_ value: Int) -> String {
        let digits = String(value, radix: 16)
        return digits.count < 2 ? "0" + digits : digits
    }
}
