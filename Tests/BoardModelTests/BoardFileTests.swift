import BoardModel
import Foundation
import Testing

@Suite("Board files")
struct BoardFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Boards").standardizedFileURL

    @Test("every file in Boards/ decodes, with the USB identities the issue names")
    func repositoryBoards() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == ["cc3220sf-launchxl.yaml", "esp32-devkitc.yaml", "esp32-s3-usb-jtag.yaml", "esp32-wrover-kit.yaml", "sim-cc3220sf.yaml",
                          "sim-esp32-enforcing.yaml", "sim-esp32.yaml"])
        var boards: [String: Board] = [:]
        for name in names {
            let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            let board = try Board.decode(text, file: name)
            #expect(board.id + ".yaml" == name)
            boards[board.id] = board
        }
        #expect(boards["esp32-devkitc"]?.usb?.vid == "10c4" && boards["esp32-devkitc"]?.usb?.pid == "ea60")
        #expect(boards["esp32-wrover-kit"]?.usb?.interface == 1)
        #expect(boards["esp32-s3-usb-jtag"]?.reset == .usbJTAGSerial && boards["esp32-s3-usb-jtag"]?.flash.size == 8 << 20)
        #expect(boards["sim-esp32"]?.simulated == true && boards["sim-esp32"]?.usb == nil)
        #expect(boards["sim-esp32"]?.policy == nil)
        #expect(boards["sim-esp32-enforcing"]?.policy == [.certificateValidity, .revocation])
        // The simulated CC3220SF's nRESET and SOP2 follow DTR and RTS (through its control FIFO).
        #expect(boards["sim-cc3220sf"]?.reset == .nresetSOP2 && boards["sim-cc3220sf"]?.chip == .cc3220sf)
        // The FT2232H's interface 0 is JTAG: only interface 1 is the WROVER-KIT's console.
        let wrover = try #require(boards["esp32-wrover-kit"])
        #expect(wrover.matches(vendorID: 0x0403, productID: 0x6010, interface: 1, serial: "X", path: nil))
        #expect(!wrover.matches(vendorID: 0x0403, productID: 0x6010, interface: 0, serial: "X", path: nil))
        // The LaunchPad's XDS110 (0451:bef3): the user UART is interface 0, the auxiliary data port interface 3.
        let launchpad = try #require(boards["cc3220sf-launchxl"])
        #expect(launchpad.chip == .cc3220sf && launchpad.firmware == Board.Firmware(pal: "cc3220-simplelink", signatureKey: "sig-sha1-rsa"))
        #expect(launchpad.matches(vendorID: 0x0451, productID: 0xBEF3, interface: 0, serial: "M4321005", path: nil))
        #expect(!launchpad.matches(vendorID: 0x0451, productID: 0xBEF3, interface: 3, serial: "M4321005", path: nil))
        #expect(boards["sim-cc3220sf"]?.simulated == true && boards["sim-cc3220sf"]?.chip == .cc3220sf)
    }

    @Test("a pinned board matches its serial or its USB path only")
    func pinned() throws {
        let bySerial = try Board.decode("""
            id: bench-a
            name: Bench A
            chip: esp32
            usb: {vid: "10c4", pid: "ea60", serial: "0001"}
            reset: auto-reset-circuit
            flash: {size: 4194304, baud: 460800}
            """, file: "bench-a.yaml")
        #expect(bySerial.matches(vendorID: 0x10C4, productID: 0xEA60, interface: 0, serial: "0001", path: nil))
        #expect(!bySerial.matches(vendorID: 0x10C4, productID: 0xEA60, interface: 0, serial: "0002", path: nil))
        let byPath = try Board.decode("""
            id: bench-b
            name: Bench B
            chip: esp32
            usb: {vid: "1a86", pid: "7523", path: "pci-0000:00:14.0-usb-0:3:1.0"}
            reset: auto-reset-circuit
            flash: {size: 4MB}
            """, file: "bench-b.yaml")
        #expect(byPath.flash.baud == 115_200)
        #expect(byPath.matches(vendorID: 0x1A86, productID: 0x7523, interface: 0, serial: nil, path: "pci-0000:00:14.0-usb-0:3:1.0"))
        #expect(!byPath.matches(vendorID: 0x1A86, productID: 0x7523, interface: 0, serial: nil, path: "pci-0000:00:14.0-usb-0:4:1.0"))
    }

    @Test("policy names the device policy's checks; an unknown check is refused naming the field and the choices")
    func policy() throws {
        let base = "id: a\nname: x\nchip: esp32\nreset: manual\nsimulated: true\nflash: {size: 4MB}\n"
        #expect(try Board.decode(base, file: "a.yaml").policy == nil)
        #expect(try Board.decode(base + "policy: [revocation]", file: "a.yaml").policy == [.revocation])
        #expect(try Board.decode(base + "policy: []", file: "a.yaml").policy == [])
        let error = #expect(throws: BoardFileError.self) { try Board.decode(base + "policy: [revocation, expiry]", file: "a.yaml") }
        #expect(error?.message == "policy 'expiry' is not one of certificate-validity, revocation")
    }

    @Test("bad board files name the field and the fix", arguments: [
        ("name: x\nchip: esp32\nreset: manual\nflash: {size: 4MB}", "missing 'id'"),
        ("id: a\nname: x\nchip: esp8266\nreset: manual\nsimulated: true\nflash: {size: 4MB}", "chip 'esp8266'"),
        ("id: a\nname: x\nchip: esp32\nreset: pogo\nsimulated: true\nflash: {size: 4MB}", "reset 'pogo'"),
        ("id: a\nname: x\nchip: esp32\nreset: manual\nusb: {vid: 10c4x, pid: ea60}\nflash: {size: 4MB}", "usb.vid"),
        ("id: a\nname: x\nchip: esp32\nreset: manual\nflash: {size: 4MB}", "needs 'usb'"),
        ("id: a\nname: x\nchip: esp32\nreset: manual\nsimulated: true\nflash: {size: lots}", "flash.size"),
        ("id: a b\nname: x\nchip: esp32\nreset: manual\nsimulated: true\nflash: {size: 4MB}", "id 'a b'"),
        (": : :", "bad.yaml"),
    ])
    func bad(text: String, expected: String) {
        do {
            _ = try Board.decode(text, file: "bad.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
