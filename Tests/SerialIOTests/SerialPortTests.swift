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
}
