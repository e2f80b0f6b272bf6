import Testing
import OTAVerifier

/// The cases of Firmware/test/test_hil_json.c (JSON_Validate / JSON_SearchConst / strtoul base 0), and what the
/// job parser relies on: ranges into the caller's buffer, and searches inside a window of it.
struct CoreJSONTests {
    static let jobDocA = Array(
        (#"{"clientToken":"0:testclient","timestamp":1602795143,"execution":{"jobId":"AFR_OTA-testjob20","status":"QUEUED","#
            + #""queuedAt":1602795128,"lastUpdatedAt":1602795128,"versionNumber":1,"executionNumber":1,"jobDocument":{"afr_ota":"#
            + #"{"protocols":["MQTT"],"streamname":"AFR_OTA-XYZ","files":[{"filepath":"/test/demo","filesize":10240,"fileid":0,"#
            + #""certfile":"test.crt","sig-sha256-ecdsa":"MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg=="}] }}}}"#)
            .utf8)

    /// The value found at `query`, as text with its type ("number 7"), or the status when the search fails.
    private func found(_ document: [UInt8], _ query: String) -> String {
        let result = CoreJSON.search(document, query: query)
        guard result.status == .success else { return "\(result.status)" }
        return "\(result.type) " + String(decoding: document[result.value], as: UTF8.self)
    }

    private func validate(_ text: String) -> CoreJSON.Status {
        CoreJSON.validate(Array(text.utf8))
    }

    @Test("JSON_Validate accepts RFC 8259 values and refuses trailing text, leading zeros, bare points and bad escapes") func validateDocuments() {
        #expect(CoreJSON.validate(Self.jobDocA) == .success)
        #expect(validate(#"{"a":[1,-2.5e+3,true,false,null,{}]}"#) == .success)
        #expect(validate(#"  "x"  "#) == .success)
        #expect(validate(#"{"a":1} x"#) == .illegalDocument)
        #expect(validate(#"{"a":01}"#) == .illegalDocument)
        #expect(validate(#"{"a":1.}"#) == .illegalDocument)
        #expect(validate(#"{"a":"\q"}"#) == .illegalDocument)
        #expect(validate("{\"a\":\"\u{01}\"}") == .illegalDocument)
        #expect(CoreJSON.validate(Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)) == .illegalDocument)
        #expect(validate(#"{"a":"€"}"#) == .success)
        #expect(validate(#"{"a":1,}"#) == .illegalDocument)
        #expect(validate(#"{"a" 1}"#) == .illegalDocument)
        #expect(validate(#"{"a":tru"#) == .partial)
        #expect(validate(#"{"a":[1,2"#) == .partial)
        #expect(validate("This is not a JSON document.") == .illegalDocument)
        #expect(validate("") == .partial)
    }

    @Test("Thirty-two nested collections validate and the thirty-third exceeds the maximum depth") func depthLimit() {
        let thirtyTwo = Array((String(repeating: "[", count: 32) + String(repeating: "]", count: 32)).utf8)
        #expect(CoreJSON.validate(thirtyTwo) == .success)
        var padded = thirtyTwo
        padded[0] = UInt8(ascii: " ")
        padded[63] = UInt8(ascii: " ")
        #expect(CoreJSON.validate(padded) == .success)
        let thirtyThree = Array((String(repeating: "[", count: 33) + String(repeating: "]", count: 33)).utf8)
        #expect(CoreJSON.validate(thirtyThree) == .maxDepthExceeded)
        #expect(CoreJSON.Status.maxDepthExceeded.coreValue == 3)
        #expect(CoreJSON.validate(thirtyThree, maxDepth: 33) == .success)
    }

    @Test("Statuses carry coreJSON's JSONStatus_t numbers") func statusNumbering() {
        #expect(CoreJSON.Status.allCases.map(\.coreValue) == Array(0...6))
        #expect(CoreJSON.Status.partial.coreValue == 0)
        #expect(CoreJSON.Status.success.coreValue == 1)
        #expect(CoreJSON.Status.badParameter.coreValue == 6)
    }

    @Test("A search finds every key of the agent's job-document model with its type and raw text") func searchJobDocumentModelKeys() throws {
        let doc = Self.jobDocA
        #expect(found(doc, "clientToken") == "string 0:testclient")
        #expect(found(doc, "timestamp") == "number 1602795143")
        #expect(found(doc, "execution.jobId") == "string AFR_OTA-testjob20")
        #expect(found(doc, "execution.jobDocument.afr_ota.protocols") == #"array ["MQTT"]"#)
        #expect(found(doc, "execution.jobDocument.afr_ota.streamname") == "string AFR_OTA-XYZ")
        #expect(found(doc, "execution.jobDocument.afr_ota.files[0].filesize") == "number 10240")
        #expect(found(doc, "execution.jobDocument.afr_ota.files[0].certfile") == "string test.crt")
        #expect(CoreJSON.search(doc, query: "execution.statusDetails").status == .notFound)
        #expect(CoreJSON.search(doc, query: "execution.jobDocument.afr_ota.files[1]").status == .notFound)
        #expect(CoreJSON.search(doc, query: "filesize").status == .notFound)
    }

    @Test("A search returns strings with their escapes, takes the first duplicate key and ignores garbage after its path") func searchQuirks() {
        // Strings come back raw: escapes are not undone.
        #expect(found(Array(#"{"sig":"Zm9v\/"}"#.utf8), "sig") == #"string Zm9v\/"#)
        // The first of duplicate keys wins.
        #expect(found(Array(#"{"a":1,"a":2}"#.utf8), "a") == "number 1")
        // Garbage after the path does not stop the search (the agent parses documents that fail validation).
        #expect(found(Array(#"{"a":{"b":7}} trailing garbage"#.utf8), "a.b") == "number 7")
        #expect(found(Array(#"{"a":{"b":7,,,"#.utf8), "a.b") == "number 7")
        // Keys are compared byte for byte, so an escaped key does not match its unescaped form.
        #expect(CoreJSON.search(Array(#"{"k\u0065y":1}"#.utf8), query: "key").status == .notFound)
        #expect(found(Array(#"{"x":{"y":[10,{"z":"w"}]}}"#.utf8), "x.y[1].z") == "string w")
        #expect(found(Array("[1,2,3]".utf8), "[2]") == "number 3")
    }

    @Test("Malformed queries are refused as bad parameters") func searchBadQueries() {
        let doc = Array("{}".utf8)
        #expect(CoreJSON.search(doc, query: "").status == .badParameter)
        #expect(CoreJSON.search(doc, query: "a.").status == .badParameter)
        #expect(CoreJSON.search(doc, query: "a[x]").status == .badParameter)
        #expect(CoreJSON.search(doc, query: "a..b").status == .badParameter)
        #expect(CoreJSON.search(doc, query: "a[1234567890]").status == .badParameter)
        #expect(CoreJSON.search(doc, query: "a]").status == .badParameter)
    }

    @Test("A search inside a window returns ranges of the whole buffer") func searchInsideAWindowReturnsRangesOfTheWholeBuffer() {
        // The job parser searches the files array's text in place: the window is the array without its brackets.
        let doc = Array(#"{"filesize":7,"files":[{"filesize":10,"fileid":0}],"tail":1}"#.utf8)
        let files = CoreJSON.search(doc, query: "files")
        #expect(files.type == .array)
        let window = (files.value.lowerBound + 1)..<(files.value.upperBound - 1)
        let inner = CoreJSON.search(doc, within: window, query: "filesize")
        #expect(inner.status == .success)
        #expect(String(decoding: doc[inner.value], as: UTF8.self) == "10")
        #expect(inner.value.lowerBound > files.value.lowerBound)
        // The window's end is the buffer's end for the search: "fileid":0 is cut to "fileid":.
        let cut = window.lowerBound..<(window.upperBound - 2)
        #expect(CoreJSON.search(doc, within: cut, query: "fileid").status == .notFound)
        #expect(CoreJSON.search(doc, within: cut.lowerBound..<cut.lowerBound, query: "fileid").status == .notFound)
    }
}

/// strtoul(…, 0) for the device's unsigned long (Firmware/test/test_hil_json.c's number cases).
struct DeviceNumberTests {
    private func parse(_ text: String, bits: Int = 32) -> UInt32? {
        DeviceNumber.parseUInt32(Array(text.utf8), unsignedLongBits: bits)
    }

    @Test("Numbers parse as strtoul with base 0: decimal, hex, octal and negated") func strtoulBaseZero() {
        #expect(parse("10240") == 10240)
        #expect(parse("1024") == 1024)  // a quoted "1024" arrives without its quotes
        #expect(parse("0x1000000") == 0x100_0000)
        #expect(parse("0X1f") == 31)
        #expect(parse("017") == 15)  // octal
        #expect(parse("0") == 0)
        #expect(parse("-1") == 0xFFFF_FFFF)
        #expect(parse("4294967295") == 0xFFFF_FFFF)
        #expect(parse(" 7") == 7)
        #expect(parse("4294967296") == nil)  // ERANGE on a 32-bit unsigned long (ESP32, CC3220SF)
        #expect(parse("19223372036854775808") == nil)  // JOB_DOC_INVALID_NUMBER_VAL
        #expect(parse("NaN") == nil)  // JOB_DOC_INVALID_NUMBER_NAN
        #expect(parse("08") == nil)  // '8' is not octal: the text is not consumed
        #expect(parse("10240.0") == nil)
        #expect(parse("0x") == nil)
        #expect(parse("-") == nil)
        #expect(parse("7 ") == nil)
    }

    @Test("Empty values, leading whitespace, signs and stray characters follow the C library's rules") func edgesOfTheCRules() {
        // An empty value: strtoul consumes nothing, and nothing is the whole value.
        #expect(parse("") == 0)
        #expect(parse(" ") == nil)
        #expect(parse("\t\n\u{0B}\u{0C}\r+0x10") == 16)
        #expect(parse("-0x1") == 0xFFFF_FFFF)
        #expect(parse("-4294967295") == 1)
        #expect(parse("0x1g") == nil)
        #expect(parse("0xg") == nil)  // "0" then "xg" left over
    }

    @Test("A 64-bit unsigned long is truncated to the 32 bits the agent stores") func sixtyFourBitUnsignedLongTruncates() {
        #expect(parse("4294967296", bits: 64) == 0)
        #expect(parse("4294967297", bits: 64) == 1)
        #expect(parse("18446744073709551615", bits: 64) == 0xFFFF_FFFF)
        #expect(parse("18446744073709551616", bits: 64) == nil)
        #expect(parse("-1", bits: 64) == 0xFFFF_FFFF)
    }
}
