import FlashProtocol
import Testing

/// Bytes from a hex string as the reference writes traces: pairs of hex digits, spaces ignored, and a word such as
/// `00000002` read as its four bytes. Expectations below are copied from reference/cc3220-bootloader.md §2.3 (the
/// `(00×12)` runs written out with `zeros(_:)`).
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd hex: \(text)")
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        out.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return out
}

func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

let mcuimg = Array("/sys/mcuimg.bin".utf8)

@Suite("CC3220 host frames against the reference's traces (§2.3)")
struct CC3220HostFrameTraceTests {
    @Test("commands without arguments: GET_VERSION, GET_STATUS, GET_STORAGE_LIST, EXEC_FROM_RAM")
    func bareCommands() {
        #expect(CC3220Command.getVersionInfo.frame == hex("00 03 2F 2F"))
        #expect(CC3220Command.getStatus.frame == hex("00 03 23 23"))
        #expect(CC3220Command.getStorageList.frame == hex("00 03 27 27"))
        #expect(CC3220Command.execFromRAM.frame == hex("00 03 32 32"))
    }

    @Test("storage commands: GET_STORAGE_INFO(0)/(2), RAW_ERASE, RAW_READ, and the RAW_WRITE header")
    func storageCommands() {
        #expect(CC3220Command.getStorageInfo(storage: .sram).frame == hex("00 07 31 31 00 00 00 00"))
        #expect(CC3220Command.getStorageInfo(storage: .serialFlash).frame == hex("00 07 33 31 00 00 00 02"))
        #expect(CC3220Command.rawStorageErase(storage: .sram, startBlock: 0, blockCount: 3).frame
            == hex("00 0F 33 30 00000000 00000000 00000003"))
        #expect(CC3220Command.rawStorageErase(storage: .serialFlash, startBlock: 33, blockCount: 2).frame
            == hex("00 0F 55 30 00000002 00000021 00000002"))
        #expect(CC3220Command.rawStorageRead(storage: .serialFlash, offset: 0, length: 4096).frame
            == hex("00 0F 3E 2C 00000002 00000000 00001000"))
        // BTL_sflash at 33*4096+8, 4080 bytes; with zero data the checksum is 2D+02+02+10+08+0F+F0 = 0x148 → 0x48.
        let write = CC3220Command.rawStorageWrite(storage: .serialFlash, offset: 33 * 4096 + 8, data: zeros(4080)).frame
        #expect(Array(write.prefix(16)) == hex("0F FF 48 2D 00000002 00021008 00000FF0"))
        #expect(write.count == 3 + 1 + 12 + 4080)
    }

    @Test("SWITCH_UART with 26 666 667 and FORMAT 4M / 1M (blocks = size / 4096)")
    func switchAndFormat() {
        #expect(CC3220Command.switchUARTToApps(delay: CC3220Bootloader.switchDelayArgument).frame == hex("00 07 5B 33 01 96 E6 AB"))
        #expect(CC3220Command.format(blockCount: 4 * 1024 * 1024 / 4096).frame
            == hex("00 17 30 28 00000002 00000400 00000000 00000000 00000002"))
        #expect(CC3220Command.format(blockCount: 1024 * 1024 / 4096).frame
            == hex("00 17 2D 28 00000002 00000100 00000000 00000000 00000002"))
    }

    @Test("file commands: GET_FILE_INFO, ERASE_FILE, READ_FILE_CHUNK, the FILE_CHUNK header")
    func fileCommands() {
        #expect(CC3220Command.getFileInfo(name: "/sys/mcuimg.bin").frame == hex("00 16 DF 2A 0000000F") + mcuimg)
        #expect(CC3220Command.eraseFile(name: "/sys/mcuimg.bin").frame == hex("00 17 D4 2E 00000000") + mcuimg + [0])
        #expect(CC3220Command.readFileChunk(offset: 0, length: 4096).frame == hex("00 0B 3B 2B 00000000 00001000"))
        let chunk = CC3220Command.fileChunk(offset: 0x3000, data: zeros(4096)).frame
        #expect(Array(chunk.prefix(2)) == hex("10 07"))
        #expect(Array(chunk[3..<8]) == hex("24 00003000"))
        #expect(chunk.count == 3 + 1 + 4 + 4096)
    }

    @Test("START_UPLOAD for a 70 000-byte file: write 0x00003145, signed 0x00233145, read 0")
    func startUpload() throws {
        let write = try #require(CC3220OpenFlags.forWriting(allocation: 70_000))
        let signed = try #require(CC3220OpenFlags.forWriting(allocation: 70_000, fileSystemFlags: .signed))
        #expect(write.rawValue == 0x0000_3145 && signed.rawValue == 0x0023_3145)
        #expect(CC3220Command.startUpload(name: "/sys/mcuimg.bin", flags: write).frame
            == hex("00 1C 3D 21 00003145 00000000") + mcuimg + [0, 0])
        #expect(CC3220Command.startUpload(name: "/sys/mcuimg.bin", flags: signed).frame
            == hex("00 1C 60 21 00233145 00000000") + mcuimg + [0, 0])
        #expect(CC3220Command.startUpload(name: "/sys/mcuimg.bin", flags: .read).frame
            == hex("00 1C C7 21 00000000 00000000") + mcuimg + [0, 0])
    }

    @Test("FINISH_UPLOAD: cc3200tool's form is 324 bytes on the wire, mos's 319-byte payload, ours the name then the signature")
    func finishUpload() {
        let signature = (0..<256).map { UInt8($0) }
        let cc3200tool = CC3220Command.finishUpload(.cc3200tool(signature: signature)).frame
        #expect(cc3200tool.count == 324)
        #expect(Array(cc3200tool.prefix(2)) == hex("01 43"))
        #expect(Array(cc3200tool[3...]) == [0x22] + zeros(63) + signature + [0])
        // mos signed: 63 zeros + signature, 319 bytes after the opcode.
        let mos = CC3220FinishUpload(encoded: zeros(63) + signature)
        #expect(mos.encoded.count == 319 && mos.signature == signature && mos.certificateName == nil)
        #expect(CC3220FinishUpload.cc3200tool(signature: signature).signature == signature)
        // Ours: the certificate name NUL-padded into the slot, then the signature, nothing after.
        let ours = CC3220FinishUpload(certificateName: "/cert/dummy-root-ca-cert", signature: Array(signature.prefix(128)))
        let name = Array("/cert/dummy-root-ca-cert".utf8)
        #expect(ours.encoded == name + zeros(63 - name.count) + Array(signature.prefix(128)))
        #expect(ours.certificateName == "/cert/dummy-root-ca-cert" && ours.signature.count == 128)
        // cc3200tool's unsigned close: 'F' × 256 and the trailing byte.
        #expect(CC3220FinishUpload.cc3200tool().encoded == zeros(63) + [UInt8](repeating: 0x46, count: 256) + [0])
        #expect(CC3220FinishUpload.empty.encoded.isEmpty)
    }

    @Test("FS_PROGRAMMING with a 4096-byte chunk and no key; GET_MAC (mos)")
    func programming() {
        let frame = CC3220Command.fsProgramming(key: [], chunk: zeros(4096)).frame
        #expect(Array(frame.prefix(2)) == hex("10 0B"))
        #expect(Array(frame[3..<12]) == hex("34 0000 1000 00000000"))
        #expect(CC3220Command.getMACAddress.frame == hex("00 07 3A 3A 00 00 00 00"))
    }

    @Test("every command decodes back from its own payload")
    func roundTrip() throws {
        let commands: [CC3220Command] = [
            .startUpload(name: "/sys/mcuimg.bin", flags: CC3220OpenFlags(rawValue: 0x0023_3145)),
            .finishUpload(.cc3200tool()), .finishUpload(.empty), .getStatus, .fileChunk(offset: 8192, data: [1, 2, 3]),
            .getStorageList, .format(blockCount: 1024), .getFileInfo(name: "a"), .readFileChunk(offset: 4096, length: 100),
            .rawStorageRead(storage: .serialFlash, offset: 0x774, length: 0x1774), .rawStorageWrite(storage: .sram, offset: 0, data: [9]),
            .eraseFile(name: "/cert/x"), .getVersionInfo, .rawStorageErase(storage: .serialFlash, startBlock: 33, blockCount: 2),
            .getStorageInfo(storage: .flash), .execFromRAM, .switchUARTToApps(delay: 26_666_667),
            .fsProgramming(key: zeros(16), chunk: [1, 2]), .getMACAddress,
        ]
        for command in commands {
            #expect(CC3220Command.decode(command.payload) == .command(command), "\(command)")
        }
    }

    @Test("malformed payloads decode to a failure value naming the opcode, never a trap")
    func malformed() {
        #expect(CC3220Command.decode([]) == .empty)
        #expect(CC3220Command.decode([0x99]) == .unknownOpcode(0x99))
        func isMalformed(_ payload: [UInt8], _ opcode: CC3220Opcode) -> Bool {
            if case .malformed(opcode, _) = CC3220Command.decode(payload) { return true }
            return false
        }
        #expect(isMalformed([0x2F, 0x00], .getVersionInfo))
        #expect(isMalformed(hex("2A 00000010") + mcuimg, .getFileInfo))  // says 16, sends 15
        #expect(isMalformed(hex("21 00003145 00000000") + mcuimg, .startUpload))  // no NUL
        #expect(isMalformed(hex("2D 00000002 00000000 00000005 01 02"), .rawStorageWrite))
        #expect(isMalformed(hex("28 00000002 00000400"), .format))
        #expect(isMalformed([0x22] + zeros(10), .finishUpload))
        #expect(isMalformed(hex("34 0010 0004 00000000 01 02"), .fsProgramming))
        #expect(isMalformed(hex("2E 00000000") + [0xFF, 0xFE, 0], .eraseFile))  // not UTF-8
        #expect(isMalformed(hex("2A 000000B5") + [UInt8](repeating: 0x61, count: 181), .getFileInfo))  // 181 > 180
    }
}

@Suite("CC3220 replies and values")
struct CC3220ReplyTests {
    @Test("version replies: the CC3200 and CC3220SF frames of §2.3 and how each is identified (§2.6)")
    func versions() throws {
        let cc3200 = hex("00 1E 17 00 04 01 02") + zeros(12) + hex("10 00 00 00") + zeros(8)
        let cc3220sf = hex("00 1E 4D 00 01 00 03") + zeros(12) + hex("19 30 00 00") + zeros(8)
        #expect(CC3220Bootloader.frame(CC3220Version.cc3200(switched: false).encoded) == cc3200)
        #expect(CC3220Bootloader.frame(CC3220Version.cc3220sf(switched: false).encoded) == cc3220sf)
        let a = try #require(CC3220Version(frame: Array(cc3200.dropFirst(3))))
        let b = try #require(CC3220Version(frame: Array(cc3220sf.dropFirst(3))))
        #expect(a.chipFamily == .cc3200 && a.needsApplicationSwitch && a.bootloaderVersion == 0x0004_0102)
        #expect(b.chipFamily == .cc3220sf && b.needsApplicationSwitch)
        #expect(CC3220Version(bootloader: [0, 1, 0, 3], chip: [0x18, 0, 0, 0]).chipFamily == .cc3220s)
        // Chip 0x10: mos calls it a CC3220 when the bootloader version is above 0x03000000.
        #expect(CC3220Version(bootloader: [4, 0, 0, 0], chip: [0x10, 0, 0, 0]).chipFamily == .cc3220)
        #expect(CC3220Version(bootloader: [0, 4, 0, 2], chip: [0x00, 0, 0, 0]).chipFamily == .unknown(0))
        #expect(!CC3220Version(bootloader: [0, 4, 0, 2], chip: [0x00, 0, 0, 0]).needsApplicationSwitch)
        #expect(CC3220Version(frame: zeros(27)) == nil)
    }

    @Test("storage info: the sim's SRAM/SFLASH frames (§2.3) and the real devices' (toniebox#30, ALLTERCO#3, E2E 1016803)")
    func storageInfo() throws {
        #expect(CC3220Bootloader.frame(CC3220StorageInfo(blockSize: 0x1000, blockCount: 16).encoded)
            == hex("00 0A 20 10 00 00 10 00 00 00 00"))
        #expect(CC3220Bootloader.frame(CC3220StorageInfo(blockSize: 0x1000, blockCount: 1024).encoded)
            == hex("00 0A 14 10 00 04 00 00 00 00 00"))
        let sflash = try #require(CC3220StorageInfo(frame: hex("10 00 04 00 00 00 00 00")))
        #expect(sflash.blockSize == 4096 && sflash.blockCount == 1024 && sflash.size == 4 * 1024 * 1024)
        let sram = try #require(CC3220StorageInfo(frame: hex("10 00 00 10 00 00 00 00")))
        #expect(sram.blockSize == 4096 && sram.blockCount == 16)
        // CC3130 under UniFlash: the whole device reply, decoded as a host reads it.
        var decoder = CC3220FrameDecoder(expecting: .ack)
        decoder.append(hex("00 CC 00 0A 24 10 00 02 00 00 9D 60 15"))
        #expect(decoder.next() == .ack)
        decoder.expecting = .frame
        guard case .frame(let payload) = decoder.next() else { Issue.record("no frame"); return }
        let cc3130 = try #require(CC3220StorageInfo(frame: payload))
        #expect(cc3130.blockSize == 4096 && cc3130.blockCount == 512 && cc3130.reserved == hex("00 9D 60 15"))
        #expect(CC3220StorageInfo(frame: [0x10, 0x00, 0x04]) == nil)
    }

    @Test("open flags: the smallest granularity with at most 255 blocks, and the fields read back")
    func openFlags() throws {
        let edge = try #require(CC3220OpenFlags.forWriting(allocation: 255 * 256))
        #expect(edge.granularity == 0 && edge.blocks == 255)
        let past = try #require(CC3220OpenFlags.forWriting(allocation: 255 * 256 + 1))
        #expect(past.granularity == 1 && past.blocks == 64)  // ceil(65281 / 1024)
        #expect(CC3220OpenFlags.forWriting(allocation: 255 * 65536 + 1) == nil)
        let signed = CC3220OpenFlags(rawValue: 0x0023_3145)
        #expect(signed.access == .writeCreateIfNotExist && signed.blockSize == 1024 && signed.blocks == 69)
        #expect(signed.fileSystemFlags == [.commit, .secure, .publicWrite] && signed.isSignedSecure)
        #expect(signed.allocation == 69 * 1024)
        #expect(CC3220OpenFlags.read.access == .read && !CC3220OpenFlags.read.isSignedSecure)
        #expect(!CC3220OpenFlags(rawValue: 0x0006_3145).isSignedSecure)  // SECURE | NO_SIGNATURE_TEST
    }

    @Test("GET_STATUS: one byte as the ROM sends it, or otarig's five with the SimpleLink code (-10289 = FF FF D7 CF, §5.4)")
    func closeStatus() throws {
        let plain = try #require(CC3220CloseStatus(statusFrame: [0x40]))
        #expect(plain.isSuccess && plain.simpleLinkCode == nil && plain.statusFrame == [0x40])
        let refused = try #require(CC3220CloseStatus(statusFrame: hex("44 FFFFD7CF")))
        #expect(!refused.isSuccess && refused.status == 0x44 && refused.simpleLinkCode == -10289)
        #expect(CC3220CloseStatus(status: 0x44, simpleLinkCode: -10289).statusFrame == hex("44 FFFFD7CF"))
        #expect(CC3220Bootloader.frame([0x40]) == hex("00 03 40 40"))
        #expect(CC3220CloseStatus(statusFrame: []) == nil)
    }

    @Test("file info: cc3200tool's reading of byte 0 and bytes 4–7")
    func fileInfo() throws {
        let info = CC3220FileInfo(exists: true, size: 70_000, maximumSize: 70_656)
        #expect(info.encoded.count == 24)
        #expect(Array(info.encoded.prefix(12)) == hex("01 000000 00011170 00011400"))
        #expect(CC3220FileInfo(frame: info.encoded) == info)
        // A CC3220 in development mode (ALLTERCO#13) answered 36 bytes with byte 0 = 0: cc3200tool reads "missing".
        #expect(CC3220FileInfo(frame: zeros(36))?.exists == false)
        #expect(CC3220FileInfo(frame: zeros(5)) == nil)
    }
}

@Suite("CC3220 frame decoder, one byte at a time")
struct CC3220FrameDecoderTests {
    @Test("ACK scanning skips bytes until 00 CC (cc3200tool _read_ack), then frames and raw bytes as the reader expects")
    func mixedStream() {
        let stream = hex("FF 00 12 00 CC") + hex("00 03 40 40") + hex("84") + hex("00 CC 00 01 02 03")
        var decoder = CC3220FrameDecoder(expecting: .ack)
        var items: [CC3220FrameDecoder.Item] = []
        // The reader's plan: ACK, frame, raw 1, ACK, raw 4.
        let plan: [CC3220FrameDecoder.Expectation] = [.ack, .frame, .raw(count: 1), .ack, .raw(count: 4)]
        var step = 0
        for byte in stream {
            decoder.append([byte])
            while step < plan.count {
                decoder.expecting = plan[step]
                guard let item = decoder.next() else { break }
                items.append(item)
                step += 1
            }
        }
        #expect(items == [.ack, .frame([0x40]), .raw([0x84]), .ack, .raw([0x00, 0x01, 0x02, 0x03])])
        #expect(decoder.skippedBytes == 3)
    }

    @Test("a frame with a bad checksum is dropped (E2E 453689's 00 07 AB 33 01 96 E6 AB; right checksum 0x5B) and the next is read")
    func badChecksum() {
        var decoder = CC3220FrameDecoder()
        var frames: [CC3220FrameDecoder.Item] = []
        for byte in hex("00 07 AB 33 01 96 E6 AB") + hex("00 07 5B 33 01 96 E6 AB") {
            decoder.append([byte])
            while let item = decoder.next() { frames.append(item) }
        }
        #expect(frames == [.frame(hex("33 01 96 E6 AB"))])
        #expect(decoder.droppedFrames == 1)
    }

    @Test("a length that cannot be a frame is skipped a byte at a time until one can")
    func resync() {
        var decoder = CC3220FrameDecoder()
        decoder.append(hex("FF FF FF") + hex("00 03 23 23"))
        #expect(decoder.next() == .frame([0x23]))
        #expect(decoder.skippedBytes == 3)
    }

    @Test("the device's wait for the host's ACK takes 00 CC, or reads a frame when the host skips it")
    func hostACKOrFrame() {
        var decoder = CC3220FrameDecoder(expecting: .hostACKOrFrame)
        decoder.append([0x00])
        #expect(decoder.next() == nil)
        decoder.append([0xCC])
        #expect(decoder.next() == .ack)
        #expect(decoder.expecting == .frame)
        decoder.expecting = .hostACKOrFrame
        decoder.append(hex("00 03 23 23"))
        #expect(decoder.next() == .frame([0x23]))
    }
}
