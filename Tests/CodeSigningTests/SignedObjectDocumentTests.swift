import Foundation
import SignerAPI
import Testing
@testable import CodeSigning

@Suite("Signed objects and job documents")
struct SignedObjectTests {
    let signature: [UInt8] = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]

    @Test("writes JSONEmbedded compact, in AWS's key order, with standard base64")
    func embeddedBytes() {
        let object = SignedObjectDocument(rawPayloadSize: 5, signature: signature, signatureAlgorithm: "SHA256withECDSA",
                                  payload: .embedded(Data([0xfb, 0xff, 0x00, 0x41, 0x42])))
        let text = String(decoding: object.encoded(), as: UTF8.self)
        #expect(text == #"{"rawPayloadSize":5,"signature":"MAYCAQECAQI=","signatureAlgorithm":"SHA256withECDSA","payload":"+/8AQUI="}"#)
    }

    @Test("writes JSONDetached with payloadLocation.s3 and escapes only what JSON needs")
    func detachedBytes() {
        let location = S3Source(bucketName: "fw-bucket", key: "builds/app \"v2\".bin", version: "3HL4kqtJ/lcpXroD")
        let object = SignedObjectDocument(rawPayloadSize: 1109376, signature: signature, signatureAlgorithm: "SHA256withECDSA", payload: .detached(location))
        let text = String(decoding: object.encoded(), as: UTF8.self)
        #expect(text == #"{"rawPayloadSize":1109376,"signature":"MAYCAQECAQI=","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"fw-bucket","key":"builds/app \"v2\".bin","version":"3HL4kqtJ/lcpXroD"}}}"#)
    }

    @Test("round-trips: the payload decodes to the input bytes and rawPayloadSize matches", arguments: [1, 2, 3, 4096, 65_537])
    func roundTrip(count: Int) throws {
        let key = try SigningKey.generate(.ecP256)
        let plan = try SigningPlan.resolve(platform: Fixture.platform("AmazonFreeRTOS-Default"), key: key)
        let payload = Fixture.payload(count: count)
        let signed = try plan.sign(payload, with: key)
        let decoded = try SignedObjectDocument(decoding: signed.encoded())
        #expect(decoded == signed)
        #expect(decoded.payload == .embedded(payload))
        #expect(decoded.rawPayloadSize == count)
    }

    @Test("refuses damaged signed objects, naming the field", arguments: [
        (#"{"signature":"AA==","signatureAlgorithm":"x","payload":"AA=="}"#, "no 'rawPayloadSize' field"),
        (#"{"rawPayloadSize":"1","signature":"AA==","signatureAlgorithm":"x","payload":"AA=="}"#, "'rawPayloadSize' field has the wrong type"),
        (#"{"rawPayloadSize":1,"signature":"A-A=","signatureAlgorithm":"x","payload":"AA=="}"#, "'signature' is not standard base64"),
        (#"{"rawPayloadSize":1,"signature":"AA==","signatureAlgorithm":"x"}"#, "exactly one of 'payload'"),
        ("not json", "not JSON"),
    ])
    func refusesDamaged(text: String, expected: String) {
        let error = #expect(throws: CodeSigningError.self) { try SignedObjectDocument(decoding: Data(text.utf8)) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("derives the job document as AWS IoT does: filesize, certfile and the signature key verbatim")
    func jobDocument() throws {
        let object = SignedObjectDocument(rawPayloadSize: 366816, signature: signature, signatureAlgorithm: "SHA1withRSA", payload: .embedded(Data([1])))
        let document = try OTAJobDocument(signedObject: object, certname: "/cert/ota.der", streamname: "AFR_OTA-abc")
        #expect(document.encoded() == #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-abc","files":[{"filepath":null,"filesize":366816,"fileid":0,"certfile":"/cert/ota.der","update_data_url":null,"auth_scheme":null,"sig-sha1-rsa":"MAYCAQECAQI="}]}}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(document.encoded().utf8)) as? [String: Any]
        let files = (parsed?["afr_ota"] as? [String: Any])?["files"] as? [[String: Any]]
        #expect(files?.first?["sig-sha1-rsa"] as? String == object.signatureBase64)
        #expect(files?.first?["filesize"] as? Int == object.rawPayloadSize)
    }

    @Test("refuses a job document for an unknown signature algorithm")
    func jobDocumentUnknownAlgorithm() {
        let object = SignedObjectDocument(rawPayloadSize: 1, signature: signature, signatureAlgorithm: "MD5withRSA", payload: .embedded(Data([1])))
        let error = #expect(throws: CodeSigningError.self) { try OTAJobDocument(signedObject: object, certname: "c", streamname: nil) }
        #expect(error?.code == .malformedSignedObject && error?.message.contains("MD5withRSA") == true)
    }

    @Test("escapes control characters, quotes and backslashes in JSON strings")
    func jsonEscaping() {
        #expect(JSONText.quoted("a\"b\\c/d\n\u{01}é") == #""a\"b\\c/d\n\u0001é""#)
        #expect(JSONText.quotedOrNull(nil) == "null")
    }
}
