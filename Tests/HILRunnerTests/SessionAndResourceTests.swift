import BoardModel
import FlashProtocol
import HILRunner
import Testing

/// A transport that records what was driven on it, with a virtual clock.
final class RecordingTransport: Transport {
    var name = "recording"
    var hasLines = true
    var lines: [(dtr: Bool, rts: Bool)] = []
    var slept: [Double] = []
    var now: Double = 0

    func send(_ bytes: [UInt8]) throws {}
    func receive(timeout: Double) -> [UInt8] { now += timeout; return [] }
    func setBaudRate(_ rate: Int) throws {}
    func setLines(dtr: Bool, rts: Bool) -> Bool {
        guard hasLines else { return false }
        lines.append((dtr, rts))
        return true
    }
    func sendBreak(seconds: Double) -> Bool { false }
    func sleep(seconds: Double) { slept.append(seconds); now += seconds }
}

/// A flasher that records the calls a session makes, and fails where told.
final class ScriptedFlasher: Flasher {
    var onEvent: ((FlashEvent) -> Void)?
    var calls: [String] = []
    var failOn: String?
    let chip = "ESP32"

    private func call(_ name: String) throws(FlashError) {
        calls.append(name)
        if name == failOn { throw .noAnswer(command: name, seconds: 3) }
    }

    func open() throws(FlashError) -> String { try call("open"); onEvent?(.connected(chip: chip)); return chip }
    func changeBaudRate(_ rate: Int) throws(FlashError) { try call("baud \(rate)"); onEvent?(.baudRateChanged(rate)) }
    func write(_ image: FlashImage, compress: Bool) throws(FlashError) {
        try call("write \(image.name) \(image.location) \(compress ? "deflate" : "plain")")
        onEvent?(.wrote(name: image.name, location: image.location, size: image.bytes.count, md5: "md5", seconds: 1))
    }
    func verify(_ image: FlashImage) throws(FlashError) { try call("verify \(image.name)") }
    func read(_ location: FlashLocation, length: Int) throws(FlashError) -> [UInt8] {
        try call("read \(location) \(length)")
        return [UInt8](repeating: 0xA5, count: length)
    }
    func stage(_ update: OTAUpdate, compress: Bool) throws(FlashError) -> StagedUpdate {
        try call("stage \(update.name)")
        return StagedUpdate(location: "ota_1", offset: 0x19_0000)
    }
    func runApplication() throws(FlashError) { try call("run") }
}

final class RecordingResetLines: ResetLines {
    var performed: [ResetSequence] = []
    var wired = true
    func perform(_ sequence: ResetSequence) -> Bool {
        performed.append(sequence)
        return wired
    }
}

@Suite("Flash sessions")
struct FlashSessionTests {
    @Test("A session resets, connects, changes baud, writes each image, stages, reads back and leaves the chip as asked, in that order")
    func order() throws {
        let flasher = ScriptedFlasher(), reset = RecordingResetLines()
        var events: [FlashEvent] = []
        let plan = FlashPlan(before: .unixTight, baudRate: 921_600,
                             images: [FlashImage(name: "a.bin", location: .offset(0x1000), bytes: [1]), FlashImage(name: "b.bin", location: .offset(0x8000), bytes: [2])],
                             update: OTAUpdate(name: "app.bin", image: [3], jobDocument: [], certificates: [:]),
                             readBack: .init(location: .offset(0x10000), length: 4), compress: false, after: .hardReset)
        let outcome = try FlashSession(flasher: flasher, resetLines: reset).run(plan) { events.append($0) }
        #expect(flasher.calls == ["open", "baud 921600", "write a.bin 0x1000 plain", "write b.bin 0x8000 plain", "stage app.bin", "read 0x10000 4"])
        #expect(reset.performed == [.unixTight, .hardReset])
        #expect(outcome.chip == "ESP32" && outcome.staged?.location == "ota_1" && outcome.readBack == [0xA5, 0xA5, 0xA5, 0xA5])
        #expect(events.first == .reset(.unixTight, performed: true) && events.last == .reset(.hardReset, performed: true))
        #expect(flasher.onEvent == nil, "the session leaves no handler behind")
    }

    @Test("Verify-only compares instead of writing; no reset sequence and no baud change when the plan has none; run asks the loader")
    func verifyOnly() throws {
        let flasher = ScriptedFlasher()
        let plan = FlashPlan(before: nil, baudRate: nil, images: [FlashImage(name: "a.bin", location: .offset(0), bytes: [1])], verifyOnly: true, after: .run)
        _ = try FlashSession(flasher: flasher, resetLines: nil).run(plan) { _ in }
        #expect(flasher.calls == ["open", "verify a.bin", "run"])
    }

    @Test("A board without reset lines reports the sequence as not performed, and the session goes on")
    func noLines() throws {
        let reset = RecordingResetLines()
        reset.wired = false
        var events: [FlashEvent] = []
        _ = try FlashSession(flasher: ScriptedFlasher(), resetLines: reset).run(FlashPlan(before: .classic, baudRate: nil)) { events.append($0) }
        #expect(events.first == .reset(.classic, performed: false))
    }

    @Test("A failing step stops the session with its error and nothing after it runs")
    func failure() {
        let flasher = ScriptedFlasher()
        flasher.failOn = "write b.bin 0x8000 deflate"
        let plan = FlashPlan(before: nil, baudRate: nil, images: [FlashImage(name: "a.bin", location: .offset(0x1000), bytes: [1]),
                                                                  FlashImage(name: "b.bin", location: .offset(0x8000), bytes: [2])], after: .run)
        let error = #expect(throws: FlashError.self) { try FlashSession(flasher: flasher, resetLines: nil).run(plan) { _ in } }
        #expect(error == .noAnswer(command: "write b.bin 0x8000 deflate", seconds: 3))
        #expect(flasher.calls.last == "write b.bin 0x8000 deflate" && !flasher.calls.contains("run"))
    }
}

@Suite("Reset lines over a transport")
struct TransportResetLinesTests {
    @Test("unix-tight drives both lines at once with esptool's waits; the chip ends released")
    func unixTight() {
        let transport = RecordingTransport()
        #expect(TransportResetLines(transport: transport).perform(.unixTight))
        #expect(transport.lines.map { "\($0.dtr ? 1 : 0)\($0.rts ? 1 : 0)" } == ["00", "00", "11", "01", "10", "00", "00"])
        #expect(transport.slept == [0.1, 0.05])
    }

    @Test("classic sets one line at a time, each state keeping the other line as it was")
    func classic() {
        let transport = RecordingTransport()
        #expect(TransportResetLines(transport: transport).perform(.classic))
        #expect(transport.lines.map { "\($0.dtr ? 1 : 0)\($0.rts ? 1 : 0)" } == ["00", "00", "01", "11", "10", "00"])
    }

    @Test("A transport without modem lines performs nothing and says so")
    func noLines() {
        let transport = RecordingTransport()
        transport.hasLines = false
        #expect(!TransportResetLines(transport: transport).perform(.hardReset))
        #expect(transport.slept.isEmpty)
    }

    @Test("The board file's wiring picks the download sequence", arguments: [
        (Board.Reset.autoResetCircuit, ResetSequence?.some(.unixTight)), (.usbJTAGSerial, .usbJTAGSerial), (.nresetSOP2, .sop2Bootloader), (.manual, nil),
    ])
    func download(reset: Board.Reset, sequence: ResetSequence?) {
        #expect(ResetSequence.download(for: reset) == sequence)
    }

    // cc3200tool's `--reset dtr --sop2 rts` wiring: DTR asserted holds nRESET low, RTS asserted pulls SOP2 high; the
    // ROM enters its UART bootloader when nRESET rises with SOP2 high, the application with SOP2 low
    // (shared/reference/cc3220-bootloader.md §2.5).
    @Test("A CC3220 wired nRESET/SOP2 is reset into its bootloader with SOP2 high, into its application with SOP2 low")
    func cc3220Wiring() {
        let transport = RecordingTransport()
        #expect(TransportResetLines(transport: transport).perform(ResetSequence.download(for: .nresetSOP2)!))  // invariant: the case has one
        // Released, then nRESET held with SOP2 high, then nRESET released with SOP2 still high.
        #expect(transport.lines.map { "\($0.dtr ? 1 : 0)\($0.rts ? 1 : 0)" } == ["00", "11", "01"])
        let application = RecordingTransport()
        #expect(TransportResetLines(transport: application).perform(ResetSequence.application(for: .nresetSOP2)!))  // invariant: as above
        #expect(application.lines.map { "\($0.dtr ? 1 : 0)\($0.rts ? 1 : 0)" } == ["00", "10", "00"])
        #expect(ResetSequence.application(for: .autoResetCircuit) == nil && ResetSequence.application(for: .manual) == nil)
    }
}

@Suite("Board resources")
struct BoardResourceTests {
    static let boards: [Board] = [
        try! Board.decode("id: devkitc\nname: D\nchip: esp32\nusb: {vid: \"10c4\", pid: \"ea60\", interface: 0}\nreset: auto-reset-circuit\nflash: {size: 4MB, baud: 460800}\n", file: "d.yaml"),  // invariant: a literal that decodes
        try! Board.decode("id: bench-a\nname: A\nchip: esp32\nusb: {vid: \"10c4\", pid: \"ea60\", serial: \"0002\"}\nreset: manual\nflash: {size: 4MB, baud: 115200}\n", file: "a.yaml"),  // invariant: as above
    ]
    static let cp2102 = USBSerialPort(devnode: "/dev/ttyUSB0", vendorID: 0x10C4, productID: 0xEA60, serial: "0001", interfaceNumber: 0,
                                      usbPath: "pci-0000:00:14.0-usb-0:3:1.0", location: "1-3")
    static let bench = USBSerialPort(devnode: "/dev/ttyUSB1", vendorID: 0x10C4, productID: 0xEA60, serial: "0002", interfaceNumber: 0)
    static let unknown = USBSerialPort(devnode: "/dev/ttyACM0", vendorID: 0x1234, productID: 0x5678)

    @Test("Each attached port lists the board files it matches, pinned serials included")
    func attached() {
        let attached = BoardResolver.attached([Self.cp2102, Self.bench, Self.unknown], boards: Self.boards)
        #expect(attached.map(\.boards) == [["devkitc"], ["devkitc", "bench-a"], []])
    }

    @Test("A board id resolves to its one port, and names the problem when it has none or several")
    func resolve() throws {
        #expect(try BoardResolver.port(for: "bench-a", boards: Self.boards, ports: [Self.cp2102, Self.bench]).port == Self.bench)
        let none = #expect(throws: BoardResolver.Failure.self) { try BoardResolver.port(for: "bench-a", boards: Self.boards, ports: [Self.cp2102]) }
        #expect(none?.reason == .notAttached)
        let two = #expect(throws: BoardResolver.Failure.self) { try BoardResolver.port(for: "devkitc", boards: Self.boards, ports: [Self.cp2102, Self.bench]) }
        #expect(two?.reason == .ambiguous(ports: ["/dev/ttyUSB0", "/dev/ttyUSB1"]))
        #expect(two?.description.contains("pin one by its USB serial or path") == true)
        let missing = #expect(throws: BoardResolver.Failure.self) { try BoardResolver.port(for: "nope", boards: Self.boards, ports: []) }
        #expect(missing?.reason == .noBoardFile)
    }

    @Test("udev rules name a board by serial, or by bus path when it has none, and skip ports no board file matches")
    func udevRules() {
        let noSerial = USBSerialPort(devnode: "/dev/ttyUSB2", vendorID: 0x10C4, productID: 0xEA60, interfaceNumber: 0,
                                     usbPath: "pci-0000:00:14.0-usb-0:4:1.0", location: "1-4.2")
        let rules = UdevRules.render(BoardResolver.attached([Self.cp2102, noSerial, Self.unknown], boards: Self.boards))
        #expect(rules.count == 5)
        #expect(rules[2] == #"SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="10c4", ENV{ID_MODEL_ID}=="ea60", ENV{ID_USB_INTERFACE_NUM}=="00", ENV{ID_SERIAL_SHORT}=="0001", SYMLINK+="otarig/devkitc-0001""#)
        #expect(rules[3] == #"SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="10c4", ENV{ID_MODEL_ID}=="ea60", ENV{ID_USB_INTERFACE_NUM}=="00", ENV{ID_PATH}=="pci-0000:00:14.0-usb-0:4:1.0", SYMLINK+="otarig/devkitc-1-4_2""#)
        // One usb_device rule per board type, so libusb may reset the board (the recovery ladder).
        #expect(rules[4] == #"SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="10c4", ATTR{idProduct}=="ea60", MODE="0664", GROUP="plugdev""#)
        #expect(UdevRules.render([]).last == "# (no attached port matches a board file)")
    }
}

@Suite("Console lines")
struct ConsoleTests {
    @Test("CR, LF and CRLF each end one line, fed one byte at a time or all at once")
    func splitting() {
        let text = Array("ets Jun  8 2016\r\n\r\nrst:0x1\nI (27) boot: ok\rW (30) x\n".utf8)
        var whole = LineSplitter()
        let expected = ["ets Jun  8 2016", "", "rst:0x1", "I (27) boot: ok", "W (30) x"]
        #expect(whole.append(text) == expected)
        var dripped = LineSplitter()
        #expect(text.flatMap { dripped.append([$0]) } == expected)
    }

    @Test("A line without an end is cut at the maximum length instead of growing forever")
    func longLine() {
        var splitter = LineSplitter()
        let lines = splitter.append([UInt8](repeating: 0x41, count: LineSplitter.maximumLength * 2 + 5))
        #expect(lines.count == 2 && lines.allSatisfy { $0.count == LineSplitter.maximumLength })
        #expect(splitter.append([0x0A]) == ["AAAAA"])
    }

    @Test("A console stamps each line with the transport's clock and gives up at the deadline")
    func timestamps() {
        let transport = ScriptedTransport(chunks: [Array("boot\r\nOTA ve".utf8), Array("rdict: accepted\n".utf8)])
        let console = TransportConsole(transport: transport)
        #expect(console.nextLine(until: 10) == ConsoleLine(time: 1, text: "boot"))
        #expect(console.nextLine(until: 10) == ConsoleLine(time: 2, text: "OTA verdict: accepted"))
        #expect(console.nextLine(until: 10) == nil)
        #expect(transport.now >= 10)
    }
}

/// A transport that delivers one chunk per receive, one virtual second apart, then nothing.
final class ScriptedTransport: Transport {
    var name = "scripted"
    var chunks: [[UInt8]]
    var now: Double = 0

    init(chunks: [[UInt8]]) { self.chunks = chunks }

    func send(_ bytes: [UInt8]) throws {}
    func receive(timeout: Double) -> [UInt8] {
        guard !chunks.isEmpty else { now += timeout; return [] }
        now += 1
        return chunks.removeFirst()
    }
    func setBaudRate(_ rate: Int) throws {}
    func setLines(dtr: Bool, rts: Bool) -> Bool { false }
    func sendBreak(seconds: Double) -> Bool { false }
    func sleep(seconds: Double) { now += seconds }
}
