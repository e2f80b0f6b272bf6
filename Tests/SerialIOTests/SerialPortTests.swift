import Foundation
import SerialIO
import Testing

@Suite("Serial ports")
struct SerialPortTests {
    @Test("a pty's slave opens raw at 115200, takes another rate, refuses one termios does not name, and carries bytes")
    func pty() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        try port.setBaudRate(921_600)
        #expect(port.baudRate == 921_600)
        let odd = #expect(throws: SerialPort.Failure.self) { try port.setBaudRate(123_456) }
        #expect(odd?.description.contains("123456") == true, "\(String(describing: odd))")
        try port.write([0xC0, 0x00, 0xC0])
        #expect(pty.read(timeoutMilliseconds: 1000) == [0xC0, 0x00, 0xC0])
        pty.write([0x01, 0x02])
        #expect(port.read(timeout: 1) == [0x01, 0x02])
        // A plain pty has no modem lines; BREAK is accepted on it (the other side sees nothing).
        #expect(port.setLines(dtr: true, rts: false) == false)
        #expect(port.sendBreak(seconds: 0.01))
    }

    @Test("a packet-mode pty reports the host's open and input flush (the stand-in for BREAK), its baud, its data, and its going away")
    func packetMode() throws {
        let pty = try PseudoTerminal(packetMode: true)
        // Nobody holds the slave: the master reads a hang-up until a host opens the port.
        #expect(pty.readPacket(timeoutMilliseconds: 200) == .hangup)
        var port: SerialPort? = try SerialPort(path: pty.slavePath, baudRate: 921_600)
        // Opening flushes the input (otarig_serial_open's tcflush) and sets the termios.
        var flags: UInt8 = 0
        for _ in 0..<5 {
            if case .control(let bits) = pty.readPacket(timeoutMilliseconds: 100) { flags |= bits }
        }
        #expect(flags & PseudoTerminal.flushRead != 0, "flags \(flags)")
        #expect(pty.hostBaudRate == 921_600)
        port?.discardInput()
        #expect(pty.readPacket(timeoutMilliseconds: 1000) == .control(PseudoTerminal.flushRead))
        try port?.write([0x00, 0x03, 0x2F, 0x2F])
        #expect(pty.readPacket(timeoutMilliseconds: 1000) == .data([0x00, 0x03, 0x2F, 0x2F]))
        pty.write([0x00, 0xCC])
        #expect(port?.read(timeout: 1) == [0x00, 0xCC])
        port = nil
        #expect(pty.readPacket(timeoutMilliseconds: 1000) == .hangup)
    }
}
