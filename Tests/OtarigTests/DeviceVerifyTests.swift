import ArgumentParser
import Testing
@testable import otarig

@Suite("device-verify inputs")
struct DeviceVerifyTests {
    @Test("versions are X.Y.Z in AppVersion32's fields, or a 0x word", arguments: [
        ("1.0.1", UInt32(0x0100_0001)), ("0.0.0", 0), ("255.255.65535", 0xffff_ffff), ("2.3.4", 0x0203_0004),
        ("0x01000001", 0x0100_0001), ("0X2000000", 0x0200_0000),
    ])
    func versions(text: String, word: UInt32) throws {
        #expect(try DeviceInputOptions.parseVersion(text) == word)
    }

    @Test("versions outside the fields are refused", arguments: ["1.0", "1.0.0.0", "256.0.0", "1.256.0", "1.0.65536", "-1.0.0", "a.b.c", "", "0x", "0x100000000"])
    func badVersions(text: String) {
        let error = #expect(throws: OtarigError.self) { try DeviceInputOptions.parseVersion(text) }
        #expect(error?.message.contains("is not a FreeRTOS version") == true, "\(String(describing: error))")
    }

    @Test("the command needs an image, a job document and a certificate directory")
    func requiredOptions() throws {
        #expect(throws: (any Error).self) { try DeviceVerifyCommand.parse(["--image", "fw.bin", "--job-doc", "j.json"]) }
        let command = try DeviceVerifyCommand.parse(["--image", "fw.bin", "--job-doc", "j.json", "--cert-dir", "certs", "--platform-state", "pending-commit"])
        #expect(command.inputs.platformState == .pendingCommit)
        #expect(command.inputs.signatureKey == "auto")
        #expect(command.inputs.runningVersion == "1.0.0")
    }
}
