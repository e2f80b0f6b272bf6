import Foundation
import OTAVerifier
import Testing

/// The repository's files, found from this file's place in it (Tests/OTAVerifierTests/).
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relativePath))
    }
}

/// One job document of `Firmware/test/vectors/ota_job_documents.json`: the FreeRTOS OTA library's unit-test job
/// documents with the outcomes its tests assert.
struct LibraryVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let json: String
    let expected: String

    var bytes: [UInt8] { Array(json.utf8) }
    var testDescription: String { name }

    static func all() throws -> [LibraryVector] {
        struct File: Decodable { let documents: [LibraryVector] }
        return try JSONDecoder().decode(File.self, from: Repository.data("Firmware/test/vectors/ota_job_documents.json"))
            .documents
    }
}

extension Array where Element == UInt8 {
    init(_ text: String) {
        self = Array(text.utf8)
    }
}

/// Bytes as a Swift string literal that replays them: printable ASCII as is, the rest escaped.
func escaped<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var out = "\""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""): out += "\\\""
        case UInt8(ascii: "\\"): out += "\\\\"
        case UInt8(ascii: "\n"): out += "\\n"
        case UInt8(ascii: "\r"): out += "\\r"
        case UInt8(ascii: "\t"): out += "\\t"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
        default: out += "\\u{\(String(byte, radix: 16))}"
        }
    }
    return out + "\""
}

/// How to replay a document: ASCII as an escaped string, anything else as an array literal of its bytes.
func replayable(_ bytes: [UInt8]) -> String {
    if !bytes.contains(where: { $0 >= 0x80 }) {
        return "Array(\(escaped(bytes)).utf8)"
    }
    return "[" + bytes.map { "0x" + String($0, radix: 16) }.joined(separator: ",") + "] /* \(escaped(bytes)) */"
}

/// The fields of two values that differ, by name (for mismatch reports), but for `log`.
func differingFields<T>(_ a: T, _ b: T) -> [String] {
    let left = Mirror(reflecting: a).children
    let right = Mirror(reflecting: b).children
    return zip(left, right).compactMap { l, r in
        guard l.label != "log" else { return nil }  // log lines are compared line by line
        let lv = String(reflecting: l.value)
        let rv = String(reflecting: r.value)
        return lv == rv ? nil : "\(l.label ?? "?"): C \(lv) vs Swift \(rv)"
    }
}
