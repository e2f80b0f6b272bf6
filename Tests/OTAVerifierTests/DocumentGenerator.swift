import OTAVerifier

/// SplitMix64: a small deterministic generator, so every run tries the same documents.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// True one time in `n`.
    mutating func oneIn(_ n: Int) -> Bool {
        below(n) == 0
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[below(choices.count)]
    }
}

/// Job documents for the differential run: mutations of the library's job documents and of fuller documents
/// (every model key), and random JSON-ish text built from the model's vocabulary.
struct DocumentGenerator {
    let seeds: [[UInt8]]
    let limits = JobDocumentLimits.freeRTOSDefaults

    init(vectors: [LibraryVector]) {
        seeds = vectors.map(\.bytes) + Self.fullDocuments.map { Array($0.utf8) }
    }

    static let filesPath = "execution.jobDocument.afr_ota.files[0]."

    /// Documents with the keys the library's vectors lack (HTTP fields, attr, fileType, self test, several files).
    static let fullDocuments = [
        #"{"clientToken":"0:c","timestamp":1,"execution":{"jobId":"AFR_OTA-full","statusDetails":{"self_test":"ready","updatedBy":"0x1000000"},"#
            + #""jobDocument":{"afr_ota":{"protocols":["HTTP"],"files":[{"filepath":"/ota/app","filesize":"0x400","fileid":0,"certfile":"c.der","#
            + #""update_data_url":"https://bucket.example/ota?X-Amz-Signature=abc","auth_scheme":"aws.s3.presigned","attr":3,"fileType":"017","#
            + #""sig-sha256-ecdsa":"QUJDRA=="}]}}}}"#,
        #"{"execution":{"jobId":"J1","jobDocument":{"afr_ota":{"protocols":["MQTT"],"streamname":"S","files":[{"filesize":10,"fileid":0,"#
            + #""sig-sha256-ecdsa":"Rk9PQkFS","sig-sha1-rsa":"QUJD"},{"filesize":20,"fileid":1,"fileType":2}]}}}}"#,
        #"{"execution":{"jobId":"J2","jobDocument":{"afr_ota":{"protocols":["MQTT","HTTP"],"streamname":"AFR_OTA-s","files":[ {"#
            + #""filepath":"a\/b","filesize":4194304,"fileid":0,"certfile":"\u0063.crt","sig-sha1-rsa":"TWFu"} ]}}}}"#,
    ]

    func document(_ rng: inout SplitMix64) -> [UInt8] {
        switch rng.below(20) {
        case 0, 1: return randomJobShape(&rng)
        case 2: return randomValue(&rng, depth: 0)
        case 3: return randomBytes(&rng)
        default:
            var doc = rng.pick(seeds)
            for _ in 0..<(rng.oneIn(3) ? rng.inRange(2...4) : 1) { doc = mutate(doc, &rng) }
            return doc
        }
    }

    // MARK: Mutations

    func mutate(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        guard !doc.isEmpty else { return doc + Array("{}".utf8) }
        switch rng.below(23) {
        case 0: return deleteRange(doc, &rng)
        case 1: return duplicateRange(doc, &rng)
        case 2: return replaceByte(doc, &rng)
        case 3: return insert(doc, at: rng.below(doc.count + 1), rng.pick(Self.fragments))
        case 4, 5: return replaceValue(doc, of: Self.numberQueries, with: rng.pick(Self.numbers), &rng)
        case 6: return Array(doc.prefix(rng.below(doc.count)))
        case 7: return nestDeeper(doc, &rng)
        case 8, 9: return longString(doc, &rng)
        case 10, 11: return replaceValue(doc, of: Self.signatureQueries, with: badBase64(&rng), &rng)
        case 12: return insertAfterValue(doc, [0], &rng)
        case 13: return insertInsideString(doc, rng.pick(Self.nonUTF8), &rng)
        case 14: return doc + rng.pick(Self.trailing)
        case 15: return removeKey(doc, &rng)
        case 16: return insertMember(doc, &rng)
        case 17: return replaceValue(doc, of: ["execution.jobDocument.afr_ota.files"], with: rng.pick(Self.oddFiles), &rng)
        case 18: return renameKey(doc, &rng)
        case 19: return insert(doc, at: rng.below(doc.count + 1), Array(rng.pick([" ", "\t", "\n", "\r", "\u{0B}"]).utf8))
        case 20: return replaceValue(doc, of: Self.stringQueries, with: rng.pick(Self.oddStrings), &rng)
        case 21: return replaceValue(doc, of: ["execution.jobDocument.afr_ota.protocols"], with: rng.pick(Self.protocols), &rng)
        default: return replaceValue(doc, of: ["filesize"], with: rng.pick(Self.fileSizes), &rng)
        }
    }

    private func deleteRange(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let start = rng.below(doc.count)
        let end = min(doc.count, start + rng.inRange(1...8))
        return Array(doc[..<start] + doc[end...])
    }

    private func duplicateRange(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let start = rng.below(doc.count)
        let end = min(doc.count, start + rng.inRange(1...40))
        return Array(doc[..<end] + doc[start..<end] + doc[end...])
    }

    private func replaceByte(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var doc = doc
        doc[rng.below(doc.count)] = rng.oneIn(4) ? UInt8(truncatingIfNeeded: rng.next()) : rng.pick(Self.interestingBytes)
        return doc
    }

    private func insert(_ doc: [UInt8], at index: Int, _ bytes: [UInt8]) -> [UInt8] {
        Array(doc[..<index] + bytes + doc[index...])
    }

    /// The whole text of the value at the first query that is found (strings with their quotes).
    private func valueRange(_ doc: [UInt8], _ queries: [String], _ rng: inout SplitMix64) -> Range<Int>? {
        let query = rng.pick(queries)
        for candidate in [query, Self.filesPath + query] {
            let found = CoreJSON.search(doc, query: candidate)
            if found.status == .success {
                return found.type == .string ? (found.value.lowerBound - 1)..<(found.value.upperBound + 1) : found.value
            }
        }
        return nil
    }

    /// The value of one of `queries` (searched at the top level, then in the first file) replaced; where it is
    /// not found, a member with the query's last key and the value is inserted in the first file instead.
    private func replaceValue(_ doc: [UInt8], of queries: [String], with text: String, _ rng: inout SplitMix64) -> [UInt8] {
        let query = rng.pick(queries)
        guard let range = valueRange(doc, [query], &rng) else {
            let key = query.split(separator: ".").last.map(String.init) ?? query
            return insertMember(doc, "\"\(key)\":\(text)", &rng)
        }
        var doc = doc
        doc.replaceSubrange(range, with: Array(text.utf8))
        return doc
    }

    private func insertAfterValue(_ doc: [UInt8], _ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        guard let range = valueRange(doc, Self.signatureQueries + Self.stringQueries, &rng) else {
            return insert(doc, at: rng.below(doc.count + 1), bytes)
        }
        return insert(doc, at: rng.oneIn(2) ? range.upperBound : range.upperBound - 1, bytes)
    }

    private func insertInsideString(_ doc: [UInt8], _ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        guard let range = valueRange(doc, Self.stringQueries + Self.signatureQueries, &rng), range.count >= 2 else {
            return insert(doc, at: rng.below(doc.count + 1), bytes)
        }
        return insert(doc, at: rng.inRange((range.lowerBound + 1)...(range.upperBound - 1)), bytes)
    }

    /// Deep nesting around a value, around the document, or in a new member: about the 32-level limit.
    private func nestDeeper(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let levels = rng.inRange(28...36)
        let open = rng.oneIn(2) ? "[" : #"{"d":"#
        let close = open == "[" ? "]" : "}"
        let prefix = Array(String(repeating: open, count: levels).utf8)
        let suffix = Array(String(repeating: close, count: levels).utf8)
        switch rng.below(3) {
        case 0:
            return prefix + doc + suffix
        case 1:
            let queries = ["execution.jobDocument.afr_ota.files", "execution.jobDocument", "execution.jobId"] + Self.numberQueries
            guard let range = valueRange(doc, queries, &rng) else { return prefix + doc + suffix }
            return Array(doc[..<range.lowerBound] + prefix + doc[range] + suffix + doc[range.upperBound...])
        default:
            let member = Array(#""deep":"#.utf8) + prefix + Array("0".utf8) + suffix + Array(",".utf8)
            guard let brace = doc.firstIndex(of: UInt8(ascii: "{")) else { return prefix + doc + suffix }
            let afterExecution = firstIndex(of: #""execution":{"#, in: doc).map { $0 + 13 }
            return insert(doc, at: rng.oneIn(2) ? brace + 1 : (afterExecution ?? brace + 1), member)
        }
    }

    /// A string value of about its buffer's size: the longest that fits, one more, and around them.
    private func longString(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let fields: [(String, Int)] = [
            ("execution.jobId", limits.maxJobIdLength + 1), ("execution.jobDocument.afr_ota.streamname", limits.streamNameBufferSize),
            ("filepath", limits.filePathBufferSize), ("certfile", limits.certFileBufferSize),
            ("update_data_url", limits.urlBufferSize), ("auth_scheme", limits.authSchemeBufferSize),
            (rng.pick(Self.signatureQueries), 4 * limits.maxSignatureSize / 3 + 2),
        ]
        let (query, capacity) = rng.pick(fields)
        let length = capacity - 1 + rng.inRange(-2...2)
        let filler = rng.oneIn(3) ? "A" : rng.pick(["u", "/", "é", "Q"])
        var text = String(repeating: filler, count: max(0, length / filler.utf8.count))
        if rng.oneIn(4) { text = String(text.dropLast(2)) + "==" }
        return replaceValue(doc, of: [query], with: "\"" + text + "\"", &rng)
    }

    private func badBase64(_ rng: inout SplitMix64) -> String {
        if rng.oneIn(3) {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8) + Array("= \\-_\t".utf8)
            let count = rng.oneIn(4) ? rng.inRange(505...520) : rng.inRange(0...24)
            let text = (0..<count).map { _ in rng.oneIn(12) ? rng.pick(alphabet) : rng.pick(Array(alphabet.prefix(64))) }
            return "\"" + String(decoding: text, as: UTF8.self) + "\""
        }
        return rng.pick(Self.base64Values)
    }

    private func removeKey(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let key = "\"" + rng.pick(Self.keyNames) + "\""
        guard let start = firstIndex(of: key, in: doc) else { return doc }
        var end = start + key.utf8.count
        while end < doc.count, doc[end] != UInt8(ascii: ","), doc[end] != UInt8(ascii: "}") { end += 1 }
        if end < doc.count, doc[end] == UInt8(ascii: ","), rng.oneIn(2) { end += 1 }
        return Array(doc[..<start] + doc[end...])
    }

    private func renameKey(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let (from, to) = rng.pick([
            ("sig-sha256-ecdsa", "sig-sha1-rsa"), ("sig-sha1-rsa", "sig-sha256-ecdsa"), ("filesize", "filesizf"),
            ("jobId", #"job\u0049d"#), ("files", "filez"), ("afr_ota", "afr-ota"), ("execution", "Execution"),
            ("fileType", "filetype"), ("self_test", "self_test "), ("jobDocument", "jobDocument.x"),
        ])
        guard let start = firstIndex(of: "\"" + from + "\"", in: doc) else { return doc }
        var doc = doc
        doc.replaceSubrange((start + 1)..<(start + 1 + from.utf8.count), with: Array(to.utf8))
        return doc
    }

    /// A member inserted at the top level, in `execution`, or in the first file: duplicates, self test, extra keys.
    private func insertMember(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let anchors = [#"{"#, #""execution":{"#, #""files":[{"#, #""statusDetails":{"#]
        return insertMember(doc, rng.pick(Self.members), after: rng.pick(anchors))
    }

    private func insertMember(_ doc: [UInt8], _ member: String, _ rng: inout SplitMix64) -> [UInt8] {
        insertMember(doc, member, after: rng.oneIn(4) ? #"{"# : #""files":[{"#)
    }

    private func insertMember(_ doc: [UInt8], _ member: String, after anchor: String) -> [UInt8] {
        let member = member + ","
        guard let at = firstIndex(of: anchor, in: doc) else { return insert(doc, at: doc.isEmpty ? 0 : 1, Array(member.utf8)) }
        return insert(doc, at: at + anchor.utf8.count, Array(member.utf8))
    }

    private func firstIndex(of text: String, in doc: [UInt8]) -> Int? {
        let needle = Array(text.utf8)
        guard doc.count >= needle.count else { return nil }
        return (0...(doc.count - needle.count)).first { doc[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    // MARK: Random documents

    private func randomBytes(_ rng: inout SplitMix64) -> [UInt8] {
        let alphabet = Array(#"{}[]":,. 0123456789-+eEtrufalsn\abcxyz"#.utf8) + [0, 0x80, 0xC3, 0xA9, 0xFF, 0x09, 0x0A]
        return (0..<rng.inRange(0...60)).map { _ in rng.pick(alphabet) }
    }

    /// Any JSON value, mostly well formed, with the model's keys so that searches get somewhere.
    private func randomValue(_ rng: inout SplitMix64, depth: Int) -> [UInt8] {
        let choice = depth > 6 ? rng.inRange(2...6) : rng.below(7)
        switch choice {
        case 0:
            let members = (0..<rng.inRange(0...4)).map { _ in
                Array(("\"" + rng.pick(Self.keyNames) + "\":").utf8) + randomValue(&rng, depth: depth + 1)
            }
            return Array("{".utf8) + Array(members.joined(separator: Array(",".utf8))) + Array("}".utf8)
        case 1:
            let elements = (0..<rng.inRange(0...3)).map { _ in randomValue(&rng, depth: depth + 1) }
            return Array("[".utf8) + Array(elements.joined(separator: Array(",".utf8))) + Array("]".utf8)
        case 2: return Array(rng.pick(Self.numbers).utf8)
        case 3: return Array(rng.pick(Self.oddStrings + Self.base64Values).utf8)
        case 4: return Array(rng.pick(["true", "false", "null", "tru", "nul", "-", "01", "1.", "1e"]).utf8)
        case 5: return rng.oneIn(2) ? rng.pick(Self.fragments) : Array("\"x\"".utf8)
        default: return Array(("\"" + rng.pick(Self.keyNames) + "\"").utf8)
        }
    }

    /// The job document's skeleton with random values, random omissions and random extra members.
    private func randomJobShape(_ rng: inout SplitMix64) -> [UInt8] {
        func maybe(_ text: String, _ rng: inout SplitMix64) -> String { rng.oneIn(8) ? "" : text }
        func value(_ rng: inout SplitMix64, _ typical: [String]) -> String {
            rng.oneIn(4) ? String(decoding: randomValue(&rng, depth: 3), as: UTF8.self) : rng.pick(typical)
        }
        let fileKeys: [(String, [String])] = [
            ("filepath", [#""/ota/app""#]), ("filesize", Self.numbers), ("fileid", ["0", "1", #""0""#]),
            ("certfile", [#""c.der""#]), ("update_data_url", [#""https://u""#]), ("auth_scheme", [#""aws.s3.presigned""#]),
            ("sig-sha256-ecdsa", Self.base64Values), ("attr", Self.numbers), ("fileType", ["0", "1", #""0""#]),
        ]
        var file: [String] = []
        for (key, typical) in fileKeys where !rng.oneIn(3) {
            file.append("\"\(key)\":" + value(&rng, typical))
        }
        let fileText = "{" + file.joined(separator: ",") + "}"
        let files = rng.oneIn(5) ? "[" + fileText + "," + fileText + "]" : "[" + fileText + "]"
        var afrOta: [String] = [
            maybe(#""protocols":"# + value(&rng, Self.protocols), &rng), maybe(#""streamname":"# + value(&rng, [#""s""#]), &rng),
            maybe(#""files":"# + files, &rng),
        ].filter { !$0.isEmpty }
        if rng.oneIn(2) { afrOta.reverse() }
        let statusDetails = rng.oneIn(3)
            ? #""statusDetails":{"self_test":"# + value(&rng, [#""ready""#, "null"]) + #","updatedBy":"# + value(&rng, Self.numbers) + "},"
            : ""
        let execution = #""execution":{"# + maybe(#""jobId":"# + value(&rng, [#""AFR_OTA-j""#, #""""#]) + ",", &rng)
            + statusDetails + #""jobDocument":{"afr_ota":{"# + afrOta.joined(separator: ",") + "}}}"
        let top = [maybe(#""clientToken":"0:c""#, &rng), maybe(#""timestamp":1"#, &rng), maybe(execution, &rng)].filter { !$0.isEmpty }
        return Array(("{" + top.joined(separator: ",") + "}").utf8)
    }

    // MARK: Vocabulary

    static let numberQueries = ["filesize", "fileid", "attr", "fileType", "execution.statusDetails.updatedBy", "timestamp"]
    static let fileSizes = [
        "0", "1", "4096", "4194304", "4194305", "4294963200", "4294963201", "4294967295", #""0x400000""#, #""0x400001""#,
        #""020000001""#, "-1", #""-4194304""#,
    ]
    static let signatureQueries = ["sig-sha256-ecdsa", "sig-sha1-rsa"]
    static let stringQueries = [
        "execution.jobId", "execution.jobDocument.afr_ota.streamname", "filepath", "certfile", "update_data_url",
        "auth_scheme", "clientToken",
    ]
    static let keyNames = [
        "clientToken", "timestamp", "execution", "jobId", "statusDetails", "self_test", "updatedBy", "jobDocument",
        "afr_ota", "streamname", "protocols", "files", "filepath", "filesize", "fileid", "certfile", "update_data_url",
        "auth_scheme", "sig-sha256-ecdsa", "sig-sha1-rsa", "attr", "fileType", "x",
    ]
    static let numbers = [
        "0x10", "010", "-1", "4294967296", "4294967295", #""1024""#, #""0x400""#, "08", "0", "1", "10240", "4194304",
        "4194305", "4294963200", "4294963201", "4294963220", "1e3", "-0", "0.5", #"" 7""#, #""7 ""#, #""""#, #""-""#,
        #""0x""#, #""0xg""#, "19223372036854775808", "NaN", "true", "null", #""+12""#, #""\t9""#, #""0X1F""#, "[1]",
        "{}", "01", "-", #""99999999999""#, #""-4294967295""#,
    ]
    static let base64Values = [
        #""MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg==""#,
        #""""#, #""=""#, #""==""#, #""Zg===""#, #""QQ=""#, #""QUJD=""#, #""TWG=""#, #""Tf==""#, #"" Rk9P""#, #""Rk9P ""#,
        #""Rk9P QkFS""#, #""Rk9P=QkFS""#, #""Zm9v\/""#, #""Zm9v\n""#, #""Zm9v\r\nYmFy""#, #""Zm-_""#, #""R""#, #""  ""#,
        #""-----BEGIN CERTIFICATE-----""#, "12345678", "null", "[\"QUJD\"]", #""QUJDRk9P-""#, #""QUJDRk9PTWG=""#,
    ]
    static let protocols = [
        #"["MQTT"]"#, #"["HTTP"]"#, #"["MQTT","HTTP"]"#, #"["MQTT","HTTP","X"]"#, #"["MQTT","HTTP","XY"]"#,
        #"["mqtt"]"#, #""MQTT""#, #"[]"#, #"["MQTT "]"#, #"[ "HTTP" ]"#, "7", #""\"MQTT\"""#,
    ]
    static let oddStrings = [
        #""""#, #""a\"b""#, #""\u0000""#, #""\u00e9""#, #""é""#, #""\ud800""#, #""tab\there""#, #""/a\/b""#,
        #""x\q""#, #""\u12""#, #""ok""#,
    ]
    static let oddFiles = [
        "1", #""x""#, "{}", #""""#, "[]", #"[{}]"#, #"{"filesize":1,"fileid":0}"#, #"[1,{"filesize":1,"fileid":0}]"#,
        #"[{"filesize":1,"fileid":0}"#, #""{"filesize":1}""#, "[ ]", "[[]]", "null", #"[{"filesize":1,"fileid":0},]"#,
    ]
    static let members = [
        #""filesize":7"#, #""fileid":3"#, #""execution":{"jobId":"dup"}"#, #""statusDetails":{"self_test":"ready","updatedBy":16777216}"#,
        #""self_test":1"#, #""sig-sha256-ecdsa":"QUJD""#, #""sig-sha1-rsa":"Rk9P""#, #""jobId":"other""#,
        #""protocols":["HTTP"]"#, #""files":[{"filesize":5,"fileid":0}]"#, #""updatedBy":"0x2000000""#, #""a":[1,2,{"b":null}]"#,
        #""filepath":"/top""#, #""attr":"0x10""#, #""fileType":"010""#, #""jobDocument":{}"#,
    ]
    static let fragments: [[UInt8]] = ["{", "}", "[", "]", "\"", ",", ":", "\\", "\\u00", " ", "x", "-", "0", ".", "e", "\"\":"]
        .map { Array($0.utf8) } + [[0], [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]
    static let nonUTF8: [[UInt8]] = [
        [0x80], [0xFF], [0xC0, 0xAF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xE2, 0x82, 0xAC],
        [0xF0, 0x9F, 0x98, 0x80], [0x01], [0x1F], [0x7F], [0],
    ]
    static let trailing: [[UInt8]] = [" garbage", ",", "}", "{", " ", "\n", "]", "\u{0}", "x"].map { Array($0.utf8) }
    static let interestingBytes: [UInt8] = Array(#"{}[]":,\ 0-1.eE"#.utf8) + [0, 0x80, 0xFF, 0xC3, 0x09, 0x0A, 0x0D]
}
