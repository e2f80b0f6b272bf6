import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignerAPI
import SignerService
import SigV4

/// A request as the protocol handlers see it: path segments split on `/` first and then percent-decoded (so an
/// encoded `/` inside a label stays inside it), the query decoded, the body collected, the caller authenticated.
struct WireRequest: Sendable {
    var method: HTTPRequest.Method
    var rawPath: String
    /// Segments after the leading `/`; `/signing-jobs/` gives `["signing-jobs", ""]`.
    var segments: [String]
    var query: [(String, String)]
    var headers: HTTPFields
    var body: Data
    var caller: Caller
    var requestId: String

    func query(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    func queryAll(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    func has(_ name: String) -> Bool { query.contains { $0.0 == name } }
    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }

    static func segments(of rawPath: String) -> [String] {
        var path = rawPath
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty else { return [] }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { SigV4Canonical.percentDecode(String($0)) }
    }
}

/// Typed query parameters for the rest-json operations: a wrong type is a ValidationException naming the member.
extension WireRequest {
    func bool(_ name: String) throws(SignerError) -> Bool? {
        guard let value = query(name) else { return nil }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .validation("1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint: Member must be a boolean (true or false)")
        }
    }

    func int(_ name: String) throws(SignerError) -> Int? {
        guard let value = query(name) else { return nil }
        guard let number = Int(value) else {
            throw .validation("1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint: Member must be an integer")
        }
        return number
    }

    func timestamp(_ name: String) throws(SignerError) -> Date? {
        guard let value = query(name) else { return nil }
        if let date = Timestamps.parse(value) { return date }
        throw .validation("1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint: Member must be an ISO-8601 timestamp such as 2024-01-02T03:04:05Z")
    }
}

enum Timestamps {
    /// ISO-8601 with or without fractional seconds, or epoch seconds.
    static func parse(_ text: String) -> Date? {
        if let seconds = Double(text), seconds.isFinite { return Date(timeIntervalSince1970: seconds) }
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `2024-01-02T03:04:05.000Z`, as S3 writes timestamps in XML.
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// `Tue, 02 Jan 2024 03:04:05 GMT`, for Last-Modified.
    static func http(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

enum JSONWire {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    /// Decodes a request body; an empty body is `{}`. Errors name the member, as ValidationExceptions.
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(SignerError) -> T {
        let data = body.isEmpty ? Data("{}".utf8) : body
        do {
            return try decoder.decode(type, from: data)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw .validation("1 validation error detected: Value at '\(path(context))' failed to satisfy constraint: Member must be of type \(describe(expected))")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw .validation("1 validation error detected: Value null at '\(path(context))' failed to satisfy constraint: Member must be of type \(describe(expected))")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw .validation("1 validation error detected: Value at '\(path(context))' failed to satisfy constraint: \(context.debugDescription)")
        } catch {
            throw .validation("The request body is not valid JSON: send a JSON object with the operation's members")
        }
    }

    static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }.joined(separator: ".")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Double.Type: "number"
        case is Bool.Type: "boolean"
        case is Data.Type: "base64-encoded blob"
        case is Date.Type: "timestamp (epoch seconds)"
        default: "\(type)".contains("Dictionary") ? "map" : ("\(type)".contains("Array") ? "list" : "structure")
        }
    }

    /// Each catalog entry's JSON, encoded once: the catalog never changes while the server runs, and encoding it
    /// for every ListSigningPlatforms was a quarter of that operation's CPU time.
    static let platformJSON: [String: [UInt8]] = Dictionary(uniqueKeysWithValues: PlatformCatalog.all.map { platform in
        (platform.platformId, Array((try? encoder.encode(platform)) ?? Data()))
    })

    static func platform(_ platform: SigningPlatform) throws -> Response {
        guard let bytes = platformJSON[platform.platformId] else { return try response(platform) }
        return raw(bytes)
    }

    static func platforms(_ list: ListSigningPlatformsResponse) throws -> Response {
        var out = Array(#"{"platforms":["#.utf8)
        for (index, platform) in list.platforms.enumerated() {
            guard let bytes = platformJSON[platform.platformId] else { return try response(list) }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += bytes
        }
        out += Array("]".utf8)
        if let token = list.nextToken { out += Array(#","nextToken":"#.utf8) + Array((try? encoder.encode(token)) ?? Data()) }
        out += Array("}".utf8)
        return raw(out)
    }

    static func raw(_ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, contentType: String = "application/json") throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
