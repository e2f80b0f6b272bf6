import BoardSim
import Crypto
import Foundation
import OTAVerifier
import SwiftASN1
import Testing
import X509

/// A file larger than the partition the ESP32 PAL writes it into: the C core (Firmware/source/hil_ota.c through
/// DeviceRun and the POSIX port, `HilPal_t.partitionSize` and the 80-byte close trailer) against its twin
/// (`DeviceInputs.partitionSize` on `esp32-mbedtls`), on the same bytes. The verdicts are the ones the sources give:
/// amazon-freertos @39640ad6 `ota_pal.c` (`otaPal_WriteBlock` returns -1 when `esp_ota_write_with_offset` fails, which
/// `esp_partition_write` does with ESP_ERR_INVALID_SIZE past the partition; `otaPal_CloseFile` appends an 80-byte
/// signature block) and ota-for-aws-iot-embedded-sdk @477ee9a5 `ota.c` (`processDataBlock`: IngestResultWriteBlockFailed,
/// -9; `processDataHandler`: rejected, FAILED with the unset close result, OtaPalUninitialized).
@Suite("A file past the partition: C core and twin")
struct PartitionSizeCrossCheckTests {
    static let certfile = "codesign.crt"
    /// 40000 bytes: nine full 4 KiB blocks and a last one of 3136.
    static let imageSize = 40_000

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var partitionSize: Int?
        var outcome: DeviceOutcome
        var palStatus: PALStatus
        var ingestResult: Int
        /// The block whose write failed.
        var blockIndex = 0
        var bytesReceived: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no partition size", partitionSize: nil, outcome: .accepted, palStatus: .success, ingestResult: -1, bytesReceived: imageSize),
        Case(name: "image and signature block fill the partition", partitionSize: imageSize + 80, outcome: .accepted, palStatus: .success,
             ingestResult: -1, bytesReceived: imageSize),
        Case(name: "image exactly the partition size: the close's signature block does not fit", partitionSize: imageSize,
             outcome: .rejectedWrite, palStatus: PALStatus(.fileClose), ingestResult: -3, bytesReceived: imageSize),
        Case(name: "one byte over", partitionSize: imageSize - 1, outcome: .rejectedWrite, palStatus: PALStatus(.uninitialized),
             ingestResult: -9, blockIndex: 9, bytesReceived: 9 * 4096),
        Case(name: "many blocks over", partitionSize: 8192, outcome: .rejectedWrite, palStatus: PALStatus(.uninitialized),
             ingestResult: -9, blockIndex: 2, bytesReceived: 8192),
        Case(name: "the partition ends inside the first block", partitionSize: 1000, outcome: .rejectedWrite,
             palStatus: PALStatus(.uninitialized), ingestResult: -9, blockIndex: 0, bytesReceived: 0),
    ]

    @Test("the C core and the twin give the stated verdict, log lines and job statuses", arguments: cases)
    func crossCheck(_ sizeCase: Case) throws {
        let signer = P256.Signing.PrivateKey()
        let image = (0..<Self.imageSize).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let signature = Array(try signer.signature(for: SHA256.hash(data: image)).derRepresentation)
        let subject = try DistinguishedName { CommonName("partition cross-check signer") }
        let certificate = Array(try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(signer.publicKey),
            notValidBefore: Date(timeIntervalSince1970: 0), notValidAfter: Date(timeIntervalSince1970: 4_102_444_800),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: Certificate.PrivateKey(signer)).serializeAsPEM().pemString.utf8)
        let document = #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-x","files":[{"filepath":"/ota/fw.bin","filesize":\#(image.count),"fileid":0,"certfile":"\#(Self.certfile)","sig-sha256-ecdsa":"\#(Data(signature).base64EncodedString())"}]}}"#
        let jobDocument = JobExecution.asExecutionMessage(Array(document.utf8), jobId: "AFR_OTA-x", clientToken: "0:x")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-partition-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certs = directory.appendingPathComponent("certs")
        try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
        try Data(image).write(to: directory.appendingPathComponent("image.bin"))
        try Data(certificate).write(to: certs.appendingPathComponent(Self.certfile))

        let device = try DeviceRun.run(DeviceRun.Inputs(
            imagePath: directory.appendingPathComponent("image.bin").path, jobDocument: jobDocument, certificateDirectory: certs.path,
            partitionSize: UInt32(sizeCase.partitionSize ?? 0), closeTrailerSize: UInt32(PALProfile.esp32MbedTLS.closeTrailerSize))).verdict
        let twin = DeviceTwin.run(DeviceInputs(profile: .esp32MbedTLS, jobDocument: jobDocument, image: Data(image),
                                               partitionSize: sizeCase.partitionSize) { label in
            label == Self.certfile ? .found(certificate) : .notFound
        })

        for (name, verdict) in [("C core", device), ("twin", twin)] {
            #expect(verdict.outcome == sizeCase.outcome, "\(name)")
            #expect(verdict.palStatus == sizeCase.palStatus, "\(name)")
            #expect(verdict.ingestResult == sizeCase.ingestResult, "\(name)")
            #expect(verdict.bytesReceived == sizeCase.bytesReceived, "\(name)")
            if sizeCase.ingestResult == -9 { #expect(verdict.blockIndex == sizeCase.blockIndex, "\(name)") }
            #expect(verdict.imageState == (sizeCase.outcome == .accepted ? .unknown : .rejected), "\(name)")
        }
        #expect(twin.events == device.events)

        let lines = device.log.map(\.text)
        let statuses = device.statuses.map(\.payload)
        switch sizeCase.ingestResult {
        case -9:
            #expect(lines.suffix(3) == [
                "Couldn't flash at the offset \(sizeCase.blockIndex * 4096)",
                "Failed to ingest received block: iBytesWritten: -1, IngestResult_t=-9",
                "Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-9",
            ])
            #expect(statuses.last == #"{"status":"FAILED","statusDetails":{"reason":"0x000000e0: 0x00000000"}}"#)
            #expect(!lines.contains("Received final block of the update."))
        case -3:
            #expect(lines.suffix(2) == [
                "Failed to close the OTA file: Error=(OtaPalFileClose:0xee000000)",
                "Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-3",
            ])
            #expect(statuses.last == #"{"status":"FAILED","statusDetails":{"reason":"0x000000ee: 0x00000000"}}"#)
        default:
            #expect(statuses.last == #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}}"#)
        }
    }
}
