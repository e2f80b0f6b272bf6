import Foundation

/// `report.json`: a `RunReport` as JSON, schema `otarig-run/1` (field by field in `Boards/README.md`, "Run reports").
/// Keys sorted and pretty-printed so two runs diff line by line; dates ISO 8601 in UTC to the second (fractions are
/// dropped when writing and accepted when reading); slashes unescaped (ARNs and paths read as written).
public enum RunReportJSON {
    /// The report's JSON bytes, ending in a newline.
    public static func encode(_ report: RunReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var data = try encoder.encode(report)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Reads a report written by `encode(_:)`. Throws `ReportError` when the bytes are not JSON, name another schema
    /// (the message says which schema it is and which this otarig reads), or miss a field.
    public static func decode(_ data: Data) throws(ReportError) -> RunReport {
        struct Probe: Decodable { var schema: String? }
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: data)
        } catch {
            throw ReportError("not a JSON object (\(describe(error))); expected an otarig run report (\(RunReport.schemaName))")
        }
        guard let schema = probe.schema else {
            throw ReportError("no \"schema\" field: not an otarig run report (\(RunReport.schemaName))")
        }
        guard schema == RunReport.schemaName else {
            throw ReportError("schema \"\(schema)\" is not \(RunReport.schemaName), the one this otarig reads; render it with the otarig that wrote it")
        }
        let decoder = JSONDecoder()
        // What `encode` writes, and the same with fractional seconds (a report written or edited by another tool).
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions.insert(.withFractionalSeconds)
            if let date = formatter.date(from: text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date such as 2026-08-01T02:00:00Z")
        }
        do {
            return try decoder.decode(RunReport.self, from: data)
        } catch {
            throw ReportError("not a valid \(RunReport.schemaName) report: \(describe(error))")
        }
    }

    /// A decoding error in one line that names the field: "boards[0].cells[3].classification: …".
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(path(context.codingPath)): \(underlying ?? context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A report that cannot be read or rendered: one line for people (the CLI adds the file name).
public struct ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
