import Testing
import OTAVerifier

/// Firmware/test/test_hil_jobdoc.c ported: the OTA library's unit-test job documents with the outcomes its tests
/// assert, the fields, the agent quirks, the self-test version rules; and the log lines the agent prints.
struct JobDocumentParserTests {
    static let runningVersion: UInt32 = 0x0100_0001  // 1.0.1, as in the library's tests
    static let head = #"{"execution":{"jobId":"J1","jobDocument":{"afr_ota":{"protocols":["MQTT"],"streamname":"S","files":[{"#
    static let tail = "}]}}}}"

    let parser = JobDocumentParser()

    private func parse(_ text: String, after previous: ParsedJobDocument? = nil) -> ParsedJobDocument {
        parser.parse(Array(text.utf8), previousSignature: previous?.signature ?? [])
    }

    private func job(_ files: String, after previous: ParsedJobDocument? = nil) -> ParsedJobDocument {
        parse(Self.head + files + Self.tail, after: previous)
    }

    @Test("Each job document of the OTA library parses to the outcome the library expects", arguments: try LibraryVector.all())
    func libraryVector(_ vector: LibraryVector) {
        let doc = parser.parse(vector.bytes)
        let protocols = JobDocumentParser.checkProtocols(doc)
        let version = JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion)
        switch vector.expected {
        case "accept":
            #expect(doc.jobError == .none && doc.otaError == .none && protocols == .none)
        case "accept-selftest":
            #expect(doc.jobError == .none && doc.inSelfTest && version == .none)
        case "reject-selftest":
            #expect(doc.jobError == .none && doc.inSelfTest && version != .none)
        case "reject-quiet":
            #expect(doc.docError == .emptyJobDoc && doc.otaError == .emptyJobDocument && doc.jobError == .noActiveJobs)
        case "parse-ok-then-abort":
            #expect(doc.jobError == .none && protocols == .invalidDataProtocol)
        default:
            #expect(doc.jobError != .none || doc.otaError != .none)
        }
    }

    @Test("All 22 job documents of the OTA library's unit tests are read") func libraryVectorCount() throws {
        #expect(try LibraryVector.all().count == 22)
    }

    @Test("Every field of an afr_ota file entry is extracted with its text") func fields() {
        let doc = job(
            #""filepath":"/ota/app","filesize":"0x400","fileid":0,"certfile":"c.der","attr":3,"fileType":"017","#
                + #""sig-sha256-ecdsa":"QUJD""#)
        #expect(doc.jobError == .none)
        #expect(doc.text(\.jobId) == "J1")
        #expect(doc.text(\.protocols) == #"["MQTT"]"#)
        #expect(doc.text(\.filePath) == "/ota/app")
        #expect(doc.text(\.certFile) == "c.der")
        #expect(doc.fileSize == 1024)
        #expect(doc.fileAttributes == 3)
        #expect(doc.signature == Array("ABC".utf8))
        // strtoul base 0 reads "017" as octal 15; a bare 017 would make the files array unsearchable.
        #expect(doc.jsonValid)
        #expect(doc.fileType == 15)
        let bare = job(#""filesize":10,"fileid":0,"fileType":017"#)
        #expect(bare.jobError == .noActiveJobs)
        #expect(bare.docError == .malformedDoc)
    }

    @Test("A missing signature keeps the previous one and an empty one decodes to nothing, as the agent's static buffer does") func quirks() {
        // A missing signature keeps the previous document's signature (the agent's static buffer).
        let signed = job(#""filesize":10,"fileid":0,"sig-sha256-ecdsa":"Rk9P""#)
        #expect(signed.jobError == .none)
        let unsigned = job(#""filesize":10,"fileid":0"#, after: signed)
        #expect(unsigned.jobError == .none)
        #expect(unsigned.signature == Array("FOO".utf8))
        // "==" decodes to nothing: the document parses and the signature is empty.
        let empty = job(#""filesize":10,"fileid":0,"sig-sha256-ecdsa":"==""#, after: unsigned)
        #expect(empty.jobError == .none)
        #expect(empty.signature.isEmpty)
        // JSON escapes are not undone, so an escaped slash breaks the signature's base64.
        let escaped = job(#""filesize":10,"fileid":0,"sig-sha256-ecdsa":"Zm9v\/""#, after: empty)
        #expect(escaped.jobError == .nonConformingJobDoc)
        #expect(escaped.docError == .base64Decode && escaped.base64Status == .invalidSymbol)
        #expect(escaped.text(\.jobId) == "J1")
        // A top-level key wins over the one in files.
        let topLevel = parse(
            #"{"filesize":7,"execution":{"jobId":"J1","jobDocument":{"afr_ota":{"protocols":["MQTT"],"files":[{"#
                + #""filesize":10,"fileid":0"# + Self.tail)
        #expect(topLevel.jobError == .none)
        #expect(topLevel.fileSize == 7)
        // Trailing garbage fails validation, but the stored jobId resets the error and the job is accepted.
        let garbage = parse(Self.head + #""filesize":10,"fileid":0"# + Self.tail + " garbage")
        #expect(garbage.jobError == .none)
        #expect(!garbage.jsonValid)
        // Protocols text of 20 characters does not fit the agent's 20-byte buffer (19 and a NUL).
        let protocols = parse(
            #"{"execution":{"jobId":"J","jobDocument":{"afr_ota":{"protocols":["MQTT","HTTP","XY"],"#
                + #""files":[{"filesize":1,"fileid":0}]}}}}"#)
        #expect(protocols.jobError == .nonConformingJobDoc)
        #expect(protocols.docError == .userBufferInsufficient)
        // A zero file size and a file too large for the block bitmap (4 MiB by default).
        #expect(job(#""filesize":0,"fileid":0"#).jobError == .zeroFileSize)
        #expect(job(#""filesize":4194304,"fileid":0"#).jobError == .none)
        #expect(job(#""filesize":4194305,"fileid":0"#).jobError == .badModelInitParams)
        // "files" that is not an array is not checked: its value without first and last byte is searched.
        let notArray = parse(#"{"execution":{"jobId":"J","jobDocument":{"afr_ota":{"protocols":["MQTT"],"files":1}}}}"#)
        #expect(notArray.jobError == .nonConformingJobDoc)
        #expect(notArray.docError == .malformedDoc)
    }

    @Test("A failed signature decode overwrites the start of the previous signature") func failedSignatureDecodeOverwritesThePreviousSignature() {
        let signed = job(#""filesize":10,"fileid":0,"sig-sha256-ecdsa":"Rk9PQkFS""#)
        #expect(signed.signature == Array("FOOBAR".utf8))
        // "QUJD" reached the buffer before '-' failed; the size stays 6.
        let failed = job(#""filesize":10,"fileid":0,"sig-sha256-ecdsa":"QUJD-""#, after: signed)
        #expect(failed.base64Status == .invalidSymbol)
        #expect(failed.signature == Array("ABCBAR".utf8))
    }

    @Test("A file size near UInt32.max wraps the block count and ends in FileSizeOverflow") func fileSizeNearUInt32MaxWrapsTheBlockCount() {
        // On a 32-bit unsigned long the rounded-up size wraps, so the bitmap check passes and the agent then
        // reports FileSizeOverflow (JOB_DOC_FILESIZE_OVERFLOW).
        let overflow = job(#""filesize":4294963220,"fileid":0"#)
        #expect(overflow.jobError == .none)
        #expect(overflow.otaError == .fileSizeOverflow)
        // OTA_MAX_FILE_SIZE itself does not wrap: too many blocks. One more wraps.
        #expect(job(#""filesize":4294963200,"fileid":0"#).jobError == .badModelInitParams)
        #expect(job(#""filesize":4294963201,"fileid":0"#).jobError == .none)
        #expect(job(#""filesize":4294963201,"fileid":0"#).otaError == .fileSizeOverflow)
        #expect(job(#""filesize":4294967295,"fileid":0"#).otaError == .fileSizeOverflow)
        let wide = JobDocumentParser(limits: JobDocumentLimits(unsignedLongBits: 64))
        #expect(wide.parse(Array((Self.head + #""filesize":4294963220,"fileid":0"# + Self.tail).utf8)).jobError
            == .badModelInitParams)
    }

    @Test("A document without afr_ota is a custom job whose id is kept when it is 1 to 72 bytes") func customJobFallback() {
        // No afr_ota: a custom job, whose id is kept when it is 1 to 72 bytes.
        let custom = parse(#"{"execution":{"jobId":"custom-1","jobDocument":{"operation":"reboot"}}}"#)
        #expect(custom.docError == .malformedDoc)
        #expect(custom.jobError == .nonConformingJobDoc)
        #expect(custom.text(\.jobId) == "custom-1")
        let longId = String(repeating: "j", count: 73)
        let long = parse(#"{"execution":{"jobId":""# + longId + #"","jobDocument":{}}}"#)
        #expect(long.jobError == .nonConformingJobDoc)
        #expect(long.jobId.isEmpty)
        #expect(parse(#"{"execution":{"jobId":"x"}}"#).jobError == .noActiveJobs)
        let empty = parse(#"{"clientToken":"0:testclient","timestamp":1602795143}"#)
        #expect(empty.docError == .emptyJobDoc && empty.otaError == .emptyJobDocument)
    }

    @Test("Self test refuses the same version and a downgrade, and allows an upgrade") func selfTestVersionRules() {
        var doc = ParsedJobDocument()
        doc.inSelfTest = true
        doc.updatedBy = 0x0100_0000
        #expect(JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion) == .none)
        doc.updatedBy = Self.runningVersion
        #expect(JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion) == .sameFirmwareVersion)
        doc.updatedBy = 0x0200_0000
        #expect(JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion) == .downgradeNotAllowed)
        #expect(
            JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion, allowDowngrade: true)
                == .none)
        doc.fileId = 1
        #expect(JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion) == .none)
        doc.fileId = 0
        doc.fileType = 255
        #expect(JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion) == .none)
        #expect(
            JobDocumentParser.checkSelfTestVersion(doc, runningVersion: Self.runningVersion, firmwareFileType: 255)
                == .downgradeNotAllowed)
    }

    @Test("Parse errors and OTA errors carry FreeRTOS's names and numbers") func names() {
        #expect(JobParseError.none.freeRTOSName == "OtaJobParseErrNone")
        #expect(JobParseError.noActiveJobs.freeRTOSName == "OtaJobParseErrNoActiveJobs")
        #expect(OtaError.downgradeNotAllowed.freeRTOSName == "OtaErrDowngradeNotAllowed")
        #expect(OtaError.fileSizeOverflow.freeRTOSName == "InvalidErrorCode")
        #expect(OtaError.emptyJobDocument.freeRTOSName == "InvalidErrorCode")
        #expect(DocParseError.emptyJobDoc.rawValue == 16)
        #expect(DocParseError.userBufferInsufficient.freeRTOSName == "DocParseErrUserBufferInsufficient")
    }
}

/// The lines the agent logs while parsing, byte for byte.
struct JobDocumentLogTests {
    let parser = JobDocumentParser()

    private func lines(_ text: String) -> [String] {
        parser.parse(Array(text.utf8)).log.map(\.description)
    }

    @Test("An accepted job document logs each extracted parameter as the agent does") func acceptedJobDocument() throws {
        let jobDocA = try #require(try LibraryVector.all().first { $0.name == "JOB_DOC_A" })
        #expect(parser.parse(jobDocA.bytes).log.map(\.description) == [
            "[INFO] Extracted parameter: [key: value]=[execution.jobId: AFR_OTA-testjob20]",
            "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.streamname: AFR_OTA-XYZ]",
            #"[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.protocols: ["MQTT"]]"#,
            "[INFO] Extracted parameter: [key: value]=[filepath: /test/demo]",
            "[INFO] Extracted parameter: [key: value]=[filesize: 10240]",
            "[INFO] Extracted parameter: [key: value]=[fileid: 0]",
            "[INFO] Extracted parameter: [key: value]=[certfile: test.crt]",
            "[INFO] Extracted parameter [ sig-sha256-ecdsa: MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZ... ]",
        ])
    }

    @Test("The signature preview log line runs past the value, as the agent's strncpy does") func signaturePreviewRunsPastTheValue() {
        let head = JobDocumentParserTests.head + #""filesize":1,"fileid":0,"sig-sha256-ecdsa":"QUJD""#
        #expect(lines(head + JobDocumentParserTests.tail).last == #"[INFO] Extracted parameter [ sig-sha256-ecdsa: QUJD"}]}}}}... ]"#)
        // Up to a NUL in the document (after a top-level signature, so that the searches before it still work).
        let top = #"{"execution":{"jobId":"J1","jobDocument":{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":1,"fileid":0}]}}},"#
            + #""sig-sha256-ecdsa":"QUJD""#
        let withNul = parser.parse(Array(top.utf8) + [0] + Array("}".utf8))
        #expect(withNul.jobError == .none && !withNul.jsonValid)
        #expect(withNul.log.map(\.description).contains(#"[INFO] Extracted parameter [ sig-sha256-ecdsa: QUJD"... ]"#))
    }

    @Test("Invalid JSON and bad base64 log the agent's error lines") func errorLines() {
        #expect(lines("This is not a JSON document.") == [
            "[ERROR] Invalid JSON document: JSON_Validate returned error: JSONStatus_t=2",
            "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=8",
        ])
        #expect(lines(JobDocumentParserTests.head + #""filesize":1,"fileid":0,"sig-sha256-ecdsa":"Tf==""#
                      + JobDocumentParserTests.tail).suffix(2) == [
            "[ERROR] Failed to decode Base64 data: base64Decode returned error: error=6",
            "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=4",
        ])
        let longStream = String(repeating: "s", count: 128)
        #expect(lines(#"{"execution":{"jobId":"J","jobDocument":{"afr_ota":{"streamname":""# + longStream + #""}}}}"#)
            .suffix(2) == [
                "[ERROR] Insufficient user memory: [key: valueLength]=[execution.jobDocument.afr_ota.streamname: 128]",
                "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=2",
            ])
        #expect(lines(JobDocumentParserTests.head + #""filesize":"08","fileid":0"# + JobDocumentParserTests.tail).last
            == "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=5")
    }

    @Test("Log lines longer than the log buffer are cut to 511 bytes") func longLinesAreCutToTheLogBuffer() {
        let url = String(repeating: "u", count: 1499)
        let doc = parser.parse(Array((JobDocumentParserTests.head + #""update_data_url":""# + url + #"""#
                                      + JobDocumentParserTests.tail).utf8))
        let line = doc.log.first { $0.text.contains("update_data_url") }
        #expect(line?.bytes.count == 511)
        #expect(doc.updateDataUrl.count == 1499)
        #expect(JobDocumentParser(limits: JobDocumentLimits(logLineSize: 2000)).parse(
            Array((JobDocumentParserTests.head + #""update_data_url":""# + url + #"""# + JobDocumentParserTests.tail).utf8)
        ).log.contains { $0.bytes.count == 1499 + "Extracted parameter: [key: value]=[update_data_url: ]".utf8.count })
    }
}
