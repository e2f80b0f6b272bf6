import BoardSim
import Foundation
import Testing

@Suite("SimpleLink file system of the simulated CC3220SF")
struct SimpleLinkFileSystemTests {
    static let accept: SimpleLinkFileSystem.SignedClose = { _, _, _, _ in 0 }
    static let wrongSignature: SimpleLinkFileSystem.SignedClose = { _, _, _, _ in -10289 }

    @Test("a failsafe file keeps its previous contents until commit; rollback restores them")
    func failsafe() {
        var fs = SimpleLinkFileSystem()
        #expect(fs.closeWrite(name: "/sys/mcuflashimg.bin", data: [1, 2, 3], maxSize: 4096, token: 7, secure: true, signed: true, failsafe: true,
                              certificateName: "signer", signature: [0], check: Self.accept) == 0)
        #expect(fs.file(named: "sys/mcuflashimg.bin")?.pendingCommit == false, "a new file has nothing to fall back to")
        #expect(fs.closeWrite(name: "/sys/mcuflashimg.bin", data: [4, 5], maxSize: 4096, token: 7, secure: true, signed: true, failsafe: true,
                              certificateName: "signer", signature: [0], check: Self.accept) == 0)
        #expect(fs.file(named: "/sys/mcuflashimg.bin")?.data == [4, 5])
        #expect(fs.file(named: "/sys/mcuflashimg.bin")?.pendingCommit == true)
        var rolledBack = fs
        rolledBack.rollback()
        #expect(rolledBack.file(named: "/sys/mcuflashimg.bin")?.data == [1, 2, 3])
        fs.commit()
        #expect(fs.file(named: "/sys/mcuflashimg.bin")?.data == [4, 5])
        #expect(fs.file(named: "/sys/mcuflashimg.bin")?.pendingCommit == false)
    }

    @Test("a failed signed close leaves the old image, counts an alert, and the 15th alert locks the device until a format")
    func alertsLock() {
        var fs = SimpleLinkFileSystem()
        _ = fs.closeWrite(name: "app.bin", data: [9], maxSize: 100, token: 0, secure: true, signed: true, failsafe: true,
                          certificateName: "c", signature: [0], check: Self.accept)
        for attempt in 1...15 {
            #expect(fs.closeWrite(name: "app.bin", data: [attempt == 1 ? 8 : 7], maxSize: 100, token: 0, secure: true, signed: true, failsafe: true,
                                  certificateName: "c", signature: [0], check: Self.wrongSignature) == -10289)
            #expect(fs.file(named: "app.bin")?.data == [9])
        }
        #expect(fs.isLocked)
        #expect(fs.closeWrite(name: "app.bin", data: [1], maxSize: 100, token: 0, secure: true, signed: true, failsafe: true,
                              certificateName: "c", signature: [0], check: Self.accept) == SimpleLinkFileSystem.deviceLocked)
        // Unsigned files still close.
        #expect(fs.closeWrite(name: "notes.txt", data: [1], maxSize: 100, token: 0, secure: false, signed: false, failsafe: false,
                              certificateName: "", signature: [], check: Self.wrongSignature) == 0)
        fs.format(blockCount: 1024)
        #expect(!fs.isLocked && fs.names.isEmpty)
    }

    @Test("the raw view is the FAT layout cc3200tool's reader expects (reference §7.3), and the state survives encoding")
    func rawView() throws {
        var fs = SimpleLinkFileSystem()
        let data = (0..<70_000).map { UInt8($0 % 251) }
        _ = fs.closeWrite(name: "/sys/mcuimg.bin", data: data, maxSize: 70_000, token: 0, secure: false, signed: false, failsafe: false,
                          certificateName: "", signature: [], check: Self.accept)
        _ = fs.closeWrite(name: "/cert/dummy-root-ca-cert", data: [1, 2, 3], maxSize: 3, token: 0, secure: false, signed: false, failsafe: true,
                          certificateName: "", signature: [], check: Self.accept)
        let raw = fs.renderRaw()
        #expect(raw.count == 4 * 1024 * 1024)
        #expect(raw[2] == 0x4C && raw[3] == 0x53, "header signature 0x534C little-endian")
        // Entry 0: index 0, 18 blocks (70 008 bytes), start block 5, flags: not mirrored (0x4), and mcuimg.bin has no 0x8.
        #expect(Array(raw[4..<8]) == [0, 18, 5, 0x40])
        // Entry 1: index 1, 1 block per copy, start 5 + 18 = 23, mirrored, 0x8.
        #expect(Array(raw[8..<12]) == [1, 1, 23, 0x80])
        #expect(Array(raw[12..<16]) == [0xFF, 0xFF, 0xFF, 0xFF])
        // Names: <HH offset, length> at 0x774, names from 0x974.
        #expect(Array(raw[0x774..<0x77C]) == [0, 0, 15, 0, 15, 0, 24, 0])
        #expect(String(decoding: raw[0x974..<0x974 + 39], as: UTF8.self) == "/sys/mcuimg.bin/cert/dummy-root-ca-cert")
        #expect(Array(raw[0x1000..<0x1004]) == [0xFF, 0xFF, 0xFF, 0xFF], "no second FAT copy")
        // File data behind its 8-byte header: 24-bit little-endian length, bytes ending in "LS".
        let start = 5 * 4096
        #expect(Array(raw[start..<start + 3]) == [0x70, 0x11, 0x01])
        #expect(Array(raw[start + 6..<start + 8]) == [0x4C, 0x53])
        #expect(Array(raw[start + 8..<start + 8 + 70_000]) == data)

        let decoded = try JSONDecoder().decode(SimpleLinkFileSystem.self, from: try JSONEncoder().encode(fs))
        #expect(decoded == fs)
    }
}
