import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SignerService

/// The REST-XML bodies S3 answers with, read into plain values (Amazon S3 API reference: ListBuckets, ListObjectsV2,
/// ListObjectVersions, GetBucketVersioning, "Error responses"). Pure: bytes in, values out.
public enum S3XML {
    /// What was wrong with a body.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One element: its local name (any `prefix:` dropped), its text and its child elements in document order.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var text: String
        public var children: [Node]

        /// The first child named `name`.
        public func child(_ name: String) -> Node? { children.first { $0.name == name } }
        /// The text of the first child named `name`.
        public func value(_ name: String) -> String? { child(name)?.text }
    }

    /// The document element of `data`.
    public static func parse(_ data: Data) throws(ParseError) -> Node {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no document element"
            throw ParseError(description: "the object store's answer is not well-formed XML (\(reason)): \(preview(data))")
        }
        return root
    }

    /// The first 200 bytes of `data` as text, for an error message.
    static func preview(_ data: Data) -> String {
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        return data.count > 200 ? text + "…" : text
    }

    /// `<Error><Code>…</Code><Message>…</Message></Error>`, or nil when `data` is not such a document.
    public static func error(_ data: Data) -> (code: String, message: String)? {
        guard let root = try? parse(data), root.name == "Error", let code = root.value("Code") else { return nil }
        return (code, root.value("Message") ?? "")
    }

    /// GetBucketVersioning: `Enabled`, `Suspended`, or nil for a bucket that never had versioning (an empty
    /// `<VersioningConfiguration/>`).
    public static func versioning(_ data: Data) throws(ParseError) -> VersioningStatus? {
        let root = try parse(data)
        // moto_server names the empty answer <GetBucketVersioningResponse/>.
        guard root.name == "VersioningConfiguration" || root.name == "GetBucketVersioningResponse" else {
            throw ParseError(description: "expected <VersioningConfiguration>, got <\(root.name)>")
        }
        guard let status = root.value("Status"), !status.isEmpty else { return nil }
        guard let parsed = VersioningStatus(rawValue: status) else {
            throw ParseError(description: "the versioning status '\(status)' is neither Enabled nor Suspended")
        }
        return parsed
    }

    /// One bucket of a ListBuckets answer.
    public struct BucketEntry: Sendable, Equatable {
        public var name: String
        public var createdAt: Date

        public init(name: String, createdAt: Date) {
            self.name = name
            self.createdAt = createdAt
        }
    }

    /// ListBuckets: the buckets and, when the answer was cut short, the token for the next page.
    public static func buckets(_ data: Data) throws(ParseError) -> (buckets: [BucketEntry], continuationToken: String?) {
        let root = try parse(data)
        guard root.name == "ListAllMyBucketsResult" else {
            throw ParseError(description: "expected <ListAllMyBucketsResult>, got <\(root.name)>")
        }
        var entries: [BucketEntry] = []
        for bucket in root.child("Buckets")?.children ?? [] where bucket.name == "Bucket" {
            guard let name = bucket.value("Name") else { throw ParseError(description: "a <Bucket> without <Name>") }
            entries.append(BucketEntry(name: name, createdAt: try timestamp(bucket.value("CreationDate"), "CreationDate")))
        }
        let token = root.value("ContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        return (entries, token)
    }

    /// One entry of a listing: an object (ListObjectsV2), a version or a delete marker (ListObjectVersions).
    public struct Entry: Sendable, Equatable {
        public var key: String
        /// nil in ListObjectsV2, which does not say.
        public var versionId: String?
        public var isLatest: Bool
        public var isDeleteMarker: Bool
        public var lastModified: Date
        /// Without the quotes; empty for a delete marker.
        public var etag: String
        public var size: Int

        public init(key: String, versionId: String?, isLatest: Bool, isDeleteMarker: Bool, lastModified: Date, etag: String, size: Int) {
            self.key = key
            self.versionId = versionId
            self.isLatest = isLatest
            self.isDeleteMarker = isDeleteMarker
            self.lastModified = lastModified
            self.etag = etag
            self.size = size
        }
    }

    /// One page of a listing.
    public struct Page: Sendable, Equatable {
        public var entries: [Entry]
        public var isTruncated: Bool
        /// ListObjectsV2's `NextContinuationToken`.
        public var nextContinuationToken: String?
        /// ListObjectVersions' `NextKeyMarker` and `NextVersionIdMarker`.
        public var nextKeyMarker: String?
        public var nextVersionIdMarker: String?
    }

    /// ListObjectsV2 (`ListBucketResult`). Keys are URL-decoded when the answer says `<EncodingType>url</EncodingType>`.
    public static func objects(_ data: Data) throws(ParseError) -> Page {
        let root = try parse(data)
        guard root.name == "ListBucketResult" else { throw ParseError(description: "expected <ListBucketResult>, got <\(root.name)>") }
        let decode = root.value("EncodingType")?.lowercased() == "url"
        var entries: [Entry] = []
        for node in root.children where node.name == "Contents" {
            entries.append(Entry(key: try key(node, decode: decode), versionId: nil, isLatest: true, isDeleteMarker: false,
                                 lastModified: try timestamp(node.value("LastModified"), "LastModified"),
                                 etag: unquote(node.value("ETag") ?? ""), size: try size(node)))
        }
        let truncated = root.value("IsTruncated") == "true"
        let token = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw ParseError(description: "a truncated ListObjectsV2 answer without <NextContinuationToken>")
        }
        return Page(entries: entries, isTruncated: truncated, nextContinuationToken: token)
    }

    /// ListObjectVersions (`ListVersionsResult`): versions and delete markers in document order.
    public static func versions(_ data: Data) throws(ParseError) -> Page {
        let root = try parse(data)
        guard root.name == "ListVersionsResult" else { throw ParseError(description: "expected <ListVersionsResult>, got <\(root.name)>") }
        let decode = root.value("EncodingType")?.lowercased() == "url"
        var entries: [Entry] = []
        for node in root.children where node.name == "Version" || node.name == "DeleteMarker" {
            let marker = node.name == "DeleteMarker"
            guard let versionId = node.value("VersionId") else { throw ParseError(description: "a <\(node.name)> without <VersionId>") }
            entries.append(Entry(key: try key(node, decode: decode), versionId: versionId, isLatest: node.value("IsLatest") == "true",
                                 isDeleteMarker: marker, lastModified: try timestamp(node.value("LastModified"), "LastModified"),
                                 etag: marker ? "" : unquote(node.value("ETag") ?? ""), size: marker ? 0 : try size(node)))
        }
        let truncated = root.value("IsTruncated") == "true"
        var nextKey = root.value("NextKeyMarker").flatMap { $0.isEmpty ? nil : $0 }
        if decode { nextKey = nextKey.map(urlDecode) }
        let nextVersion = root.value("NextVersionIdMarker").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && nextKey == nil {
            throw ParseError(description: "a truncated ListObjectVersions answer without <NextKeyMarker>")
        }
        return Page(entries: entries, isTruncated: truncated, nextKeyMarker: nextKey, nextVersionIdMarker: nextVersion)
    }

    /// Versions as `ObjectStore.versions` promises them: by key, then newest first. S3 sends them so; some
    /// implementations (moto) send every `<Version>` before every `<DeleteMarker>`, so the latest entry of each key
    /// goes first and the rest follow newest first, ties kept in the order received.
    public static func ordered(_ entries: [Entry]) -> [Entry] {
        entries.enumerated().sorted { a, b in
            if a.element.key != b.element.key { return Array(a.element.key.utf8).lexicographicallyPrecedes(Array(b.element.key.utf8)) }
            if a.element.isLatest != b.element.isLatest { return a.element.isLatest }
            if a.element.lastModified != b.element.lastModified { return a.element.lastModified > b.element.lastModified }
            return a.offset < b.offset
        }.map(\.element)
    }

    static func key(_ node: Node, decode: Bool) throws(ParseError) -> String {
        guard let key = node.value("Key") else { throw ParseError(description: "a <\(node.name)> without <Key>") }
        return decode ? urlDecode(key) : key
    }

    static func size(_ node: Node) throws(ParseError) -> Int {
        guard let text = node.value("Size"), let size = Int(text), size >= 0 else {
            throw ParseError(description: "a <\(node.name)> without a valid <Size>")
        }
        return size
    }

    /// An ETag without its surrounding quotes.
    public static func unquote(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    /// `encoding-type=url` values: `+` is a space and `%XX` a byte, as botocore decodes them (`unquote_plus`).
    public static func urlDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var rest = Array(text.utf8)[...]
        while let byte = rest.first {
            if byte == UInt8(ascii: "%"), rest.count >= 3,
               let value = UInt8(String(decoding: rest.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                rest = rest.dropFirst(3)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                rest = rest.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An ISO 8601 timestamp as S3 writes it: `2009-10-12T17:50:30.000Z`, without the fraction, or with `+00:00`.
    public static func timestamp(_ text: String?, _ field: String) throws(ParseError) -> Date {
        guard let text else { throw ParseError(description: "<\(field)> is missing") }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        throw ParseError(description: "<\(field)> is not an ISO 8601 timestamp: '\(text)'")
    }

    /// An HTTP date (RFC 9110 IMF-fixdate, `Wed, 12 Oct 2009 17:50:00 GMT`), as in `Last-Modified`; nil otherwise.
    public static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        return calendar.date(from: DateComponents(year: year, month: month + 1, day: day, hour: time[0], minute: time[1], second: time[2]))
    }

    /// Text for an XML element's content.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// Builds `S3XML.Node`s from XMLParser's events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [S3XML.Node] = []
    var root: S3XML.Node?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(S3XML.Node(name: local, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard var node = stack.popLast() else { return }
        if !node.children.isEmpty { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }
}
