import Crypto
import FlashProtocol
import Testing

@Suite("The flash state machine, byte by byte")
struct FlashStateMachineBytesTests {
    @Test("connect starts with a quiet line, then the SYNC frame byte for byte, then a 0.1 s timer")
    func syncFrame() {
        var machine = ESP32FlashStateMachine()
        let sync: [UInt8] = [0xC0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x07, 0x12, 0x20]
            + [UInt8](repeating: 0x55, count: 32) + [0xC0]
        #expect(machine.start(.connect(attempts: 7)) == [.drain(quiet: 0.05), .send(sync, command: .sync), .setTimer(seconds: 0.1)])
    }

    @Test("the SYNC answer drains the ROM's seven other answers, then reads the magic register at 0x40001000 with esptool's 3 s timeout")
    func afterSync() {
        var machine = ESP32FlashStateMachine()
        _ = machine.start(.connect(attempts: 7))
        let answer = ROMResponse(opcode: 0x08, value: 0x2012_0707, data: [0, 0, 0, 0]).encoded
        let readReg: [UInt8] = [0xC0, 0x00, 0x0A, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x40, 0xC0]
        #expect(machine.frameReceived(answer) == [.drain(quiet: 0.1), .send(readReg, command: .readReg), .setTimer(seconds: 3)])
        // An answer to another command is not this one's: nothing happens.
        #expect(machine.frameReceived(ROMResponse(opcode: 0x08, data: [0, 0, 0, 0]).encoded) == [])
        let magic = ROMResponse(opcode: 0x0A, value: 0x00F0_1D83, data: [0, 0, 0, 0]).encoded
        #expect(machine.frameReceived(magic) == [.done(.connected(magic: 0x00F0_1D83))])
        #expect(machine.isIdle)
    }

    @Test("an unanswered SYNC is retried after a 0.05 s quiet; the last attempt's timeout fails the connect")
    func syncRetries() {
        var machine = ESP32FlashStateMachine()
        _ = machine.start(.connect(attempts: 2))
        let retry = machine.timeoutFired()
        #expect(retry.first == .retrying(command: .sync, attempt: 1, reason: "no answer to SYNC within 0.1 s"))
        #expect(retry.dropFirst().first == .drain(quiet: 0.05))
        #expect(machine.timeoutFired() == [.failed(.syncFailed(attempts: 2))])
        #expect(!machine.isIdle)
    }

    @Test("a failure status names the command and the ROM's error code")
    func deviceError() {
        var machine = ESP32FlashStateMachine()
        _ = machine.start(.connect(attempts: 1))
        _ = machine.frameReceived(ROMResponse(opcode: 0x08, data: [0, 0, 0, 0]).encoded)
        _ = machine.frameReceived(ROMResponse(opcode: 0x0A, value: 0x00F0_1D83, data: [0, 0, 0, 0]).encoded)
        _ = machine.start(.attachFlash(flashSize: 0x40_0000))
        let refused = ROMResponse(opcode: 0x0D, data: [0x01, ROMErrorCode.invalidMessage.rawValue, 0, 0]).encoded
        let actions = machine.frameReceived(refused)
        #expect(actions == [.failed(.deviceError(command: "SPI_ATTACH", code: 0x05))])
        #expect(FlashError.deviceError(command: "SPI_ATTACH", code: 0x05).description == "the chip refused SPI_ATTACH: error 0x5 (received message invalid)")
        #expect(machine.isIdle)
    }
}

extension FlashStateMachineBytesTests {
    @Test("a flash whose MD5 differs from the image's after the last block fails the write, naming both digests")
    func digestMismatch() {
        var machine = ESP32FlashStateMachine()
        _ = machine.start(.connect(attempts: 1))
        _ = machine.frameReceived(ROMResponse(opcode: 0x08, data: [0, 0, 0, 0]).encoded)
        _ = machine.frameReceived(ROMResponse(opcode: 0x0A, value: 0x00F0_1D83, data: [0, 0, 0, 0]).encoded)
        let image = [UInt8](repeating: 0xA5, count: 100)
        let begin = machine.start(.write(image: image, offset: 0x30000, compress: false))
        // FLASH_BEGIN: size 100, one block of 0x400 at 0x30000; the erase timeout is the ordinary 3 s for so little.
        guard case .send(let frame, .flashBegin) = begin.first else {
            Issue.record("not a FLASH_BEGIN: \(begin)")
            return
        }
        var decoder = SLIP.Decoder()
        #expect(decoder.feed(frame) == [[0x00, 0x02, 0x10, 0x00, 0, 0, 0, 0, 100, 0, 0, 0, 1, 0, 0, 0, 0x00, 0x04, 0, 0, 0x00, 0x00, 0x03, 0x00]])
        #expect(begin.last == .setTimer(seconds: 3))
        let data = machine.frameReceived(ROMResponse(opcode: 0x02, data: [0, 0, 0, 0]).encoded)
        #expect(data.first.map { if case .send(_, .flashData) = $0 { true } else { false } } == true)
        let md5 = machine.frameReceived(ROMResponse(opcode: 0x03, data: [0, 0, 0, 0]).encoded)
        #expect(md5.first == .progress(done: 100, total: 100))
        let wrong = Array(String(repeating: "0", count: 32).utf8)
        #expect(machine.frameReceived(ROMResponse(opcode: 0x13, data: wrong + [0, 0, 0, 0]).encoded)
            == [.failed(.digestMismatch(offset: 0x30000, size: 100, expected: Insecure.md5Hex(image), device: String(repeating: "0", count: 32)))])
    }
}
