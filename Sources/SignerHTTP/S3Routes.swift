import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignerService
import SigV4

/// The S3 subset a signing workflow needs, path-style (`/<bucket>/<key>`), REST-XML:
/// CreateBucket, HeadBucket, ListBuckets, Put/GetBucketVersioning, GetBucketLocation, PutObject, GetObject and
/// HeadObject (with versionId and byte ranges), ListObjects(V2), ListObjectVersions, DeleteObject.
struct S3Routes: Sendable {
    let buckets: BucketService
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    static func operation(_ request: WireRequest) -> String {
        let s = request.segments
        let bucketOnly = s.count == 1 || (s.count == 2 && s[1].isEmpty)
        switch (request.method, s.isEmpty ? 0 : (bucketOnly ? 1 : 2)) {
        case (.get, 0): return "ListBuckets"
        case (.put, 1): return request.has("versioning") ? "PutBucketVersioning" : "CreateBucket"
        case (.head, 1): return "HeadBucket"
        case (.get, 1):
            if request.has("versioning") { return "GetBucketVersioning" }
            if request.has("location") { return "GetBucketLocation" }
            if request.has("versions") { return "ListObjectVersions" }
            return request.query("list-type") == "2" ? "ListObjectsV2" : "ListObjects"
        case (.put, 2): return request.header("x-amz-copy-source") != nil ? "CopyObject" : "PutObject"
        case (.get, 2): return "GetObject"
        case (.head, 2): return "HeadObject"
        case (.delete, 2): return "DeleteObject"
        default: return "Unsupported"
        }
    }

    static func xml(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func handle(_ request: WireRequest) async throws -> Response {
        let caller = request.caller
        let s = request.segments
        let bucket = s.first ?? ""
        let key = s.count > 1 ? s.dropFirst().joined(separator: "/") : ""
        let versionId = request.query("versionId")
        switch Self.operation(request) {
        case "ListBuckets":
            let list = try await buckets.listBuckets(caller: caller).map {
                "<Bucket><Name>\(XML.escape($0.name))</Name><CreationDate>\(Timestamps.iso($0.createdAt))</CreationDate></Bucket>"
            }.joined()
            return Self.xml("<ListAllMyBucketsResult xmlns=\"\(Self.namespace)\"><Owner><ID>\(caller.account)</ID><DisplayName>\(caller.account)</DisplayName></Owner><Buckets>\(list)</Buckets></ListAllMyBucketsResult>")
        case "CreateBucket":
            try await buckets.createBucket(bucket, caller: caller)
            var headers = HTTPFields()
            headers[.location] = "/\(bucket)"
            return Response(status: .ok, headers: headers)
        case "HeadBucket":
            _ = try await buckets.owned(bucket, by: caller)
            return Response(status: .ok)
        case "PutBucketVersioning":
            let text = String(decoding: request.body, as: UTF8.self)
            guard let status = XML.element("Status", in: text) else {
                throw S3Error("MalformedXML", "The XML you provided was not well-formed: expected <VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
            }
            try await buckets.setVersioning(bucket, status: status, caller: caller)
            return Response(status: .ok)
        case "GetBucketVersioning":
            let info = try await buckets.owned(bucket, by: caller)
            let status = info.versioning.map { "<Status>\($0.rawValue)</Status>" } ?? ""
            return Self.xml("<VersioningConfiguration xmlns=\"\(Self.namespace)\">\(status)</VersioningConfiguration>")
        case "GetBucketLocation":
            let info = try await buckets.owned(bucket, by: caller)
            let region = info.region == "us-east-1" ? "" : info.region
            return Self.xml("<LocationConstraint xmlns=\"\(Self.namespace)\">\(region)</LocationConstraint>")
        case "ListObjects", "ListObjectsV2":
            return try await list(request, bucket: bucket, v2: Self.operation(request) == "ListObjectsV2")
        case "ListObjectVersions":
            return try await listVersions(request, bucket: bucket)
        case "PutObject":
            if let md5 = request.header("content-md5") {
                let actual = Data(Insecure.MD5.hash(data: request.body)).base64EncodedString()
                guard md5 == actual else { throw S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.") }
            }
            let version = try await buckets.put(bucket, key: key, data: request.body, contentType: request.header("content-type"), caller: caller)
            var headers = HTTPFields()
            headers[.eTag] = "\"\(version.etag)\""
            if version.versionId != "null" { headers[.amzVersionId] = version.versionId }
            return Response(status: .ok, headers: headers)
        case "GetObject":
            let (version, data) = try await buckets.get(bucket, key: key, versionId: versionId, caller: caller)
            return try Self.object(version, data: data, range: request.header("range"))
        case "HeadObject":
            let version = try await buckets.head(bucket, key: key, versionId: versionId, caller: caller)
            guard !version.isDeleteMarker else { throw S3Error("MethodNotAllowed", "The specified method is not allowed against a delete marker.") }
            var headers = Self.objectHeaders(version)
            headers[.contentLength] = String(version.size)
            return Response(status: .ok, headers: headers)
        case "DeleteObject":
            let result = try await buckets.delete(bucket, key: key, versionId: versionId, caller: caller)
            var headers = HTTPFields()
            if let result, result.versionId != "null" || versionId != nil { headers[.amzVersionId] = result.versionId }
            if result?.isDeleteMarker == true { headers[.amzDeleteMarker] = "true" }
            return Response(status: .noContent, headers: headers)
        case "CopyObject":
            throw S3Error("NotImplemented", "CopyObject is not implemented by otarig's S3 subset; download and upload the object instead")
        default:
            throw S3Error("NotImplemented", "\(request.method.rawValue) \(request.rawPath) is not part of otarig's S3 subset")
        }
    }

    static func objectHeaders(_ version: ObjectVersion) -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = "\"\(version.etag)\""
        headers[.lastModified] = Timestamps.http(version.lastModified)
        headers[.contentType] = version.contentType ?? "binary/octet-stream"
        headers[.acceptRanges] = "bytes"
        if version.versionId != "null" { headers[.amzVersionId] = version.versionId }
        return headers
    }

    /// The object, or the byte range `bytes=a-b` / `bytes=a-` / `bytes=-n` of it.
    static func object(_ version: ObjectVersion, data: Data, range: String?) throws -> Response {
        var headers = objectHeaders(version)
        guard let range, range.hasPrefix("bytes="), !range.contains(",") else {
            headers[.contentLength] = String(data.count)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        let spec = range.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { throw S3Error("InvalidRange", "The requested range is not satisfiable") }
        let count = data.count
        var start: Int, end: Int
        if spec[0].isEmpty {
            guard let suffix = Int(spec[1]), suffix > 0 else { throw S3Error("InvalidRange", "The requested range is not satisfiable") }
            start = max(0, count - suffix)
            end = count - 1
        } else {
            guard let first = Int(spec[0]) else { throw S3Error("InvalidRange", "The requested range is not satisfiable") }
            start = first
            end = spec[1].isEmpty ? count - 1 : min(Int(spec[1]) ?? count - 1, count - 1)
        }
        guard start < count, start <= end else { throw S3Error("InvalidRange", "The requested range is not satisfiable") }
        let slice = data.subdata(in: start..<(end + 1))
        headers[.contentRange] = "bytes \(start)-\(end)/\(count)"
        headers[.contentLength] = String(slice.count)
        return Response(status: .partialContent, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: slice)))
    }

    private func list(_ request: WireRequest, bucket: String, v2: Bool) async throws -> Response {
        let prefix = request.query("prefix") ?? ""
        let maxKeys = min(max(Int(request.query("max-keys") ?? "") ?? 1000, 0), 1000)
        var items = try await buckets.list(bucket, prefix: prefix, caller: request.caller)
        let marker = v2 ? (request.query("continuation-token").map { SigV4Canonical.percentDecode($0) } ?? request.query("start-after")) : request.query("marker")
        if let marker { items = items.filter { $0.key > marker } }
        let page = Array(items.prefix(maxKeys))
        let truncated = items.count > page.count
        let contents = page.map { version in
            "<Contents><Key>\(XML.escape(version.key))</Key><LastModified>\(Timestamps.iso(version.lastModified))</LastModified><ETag>&quot;\(version.etag)&quot;</ETag><Size>\(version.size)</Size><StorageClass>STANDARD</StorageClass></Contents>"
        }.joined()
        var body = "<ListBucketResult xmlns=\"\(Self.namespace)\"><Name>\(XML.escape(bucket))</Name><Prefix>\(XML.escape(prefix))</Prefix><MaxKeys>\(maxKeys)</MaxKeys><IsTruncated>\(truncated)</IsTruncated>"
        if v2 {
            body += "<KeyCount>\(page.count)</KeyCount>"
            if let token = request.query("continuation-token") { body += "<ContinuationToken>\(XML.escape(token))</ContinuationToken>" }
            if truncated, let last = page.last { body += "<NextContinuationToken>\(XML.escape(last.key))</NextContinuationToken>" }
        } else {
            body += "<Marker>\(XML.escape(marker ?? ""))</Marker>"
            if truncated, let last = page.last { body += "<NextMarker>\(XML.escape(last.key))</NextMarker>" }
        }
        return Self.xml(body + contents + "</ListBucketResult>")
    }

    private func listVersions(_ request: WireRequest, bucket: String) async throws -> Response {
        let prefix = request.query("prefix") ?? ""
        let maxKeys = min(max(Int(request.query("max-keys") ?? "") ?? 1000, 0), 1000)
        var items = try await buckets.versions(bucket, prefix: prefix, caller: request.caller)
        if let keyMarker = request.query("key-marker") {
            let versionMarker = request.query("version-id-marker")
            if let versionMarker, let index = items.firstIndex(where: { $0.key == keyMarker && $0.versionId == versionMarker }) {
                items = Array(items[(index + 1)...])
            } else {
                items = items.filter { $0.key > keyMarker }
            }
        }
        let page = Array(items.prefix(maxKeys))
        let truncated = items.count > page.count
        var body = "<ListVersionsResult xmlns=\"\(Self.namespace)\"><Name>\(XML.escape(bucket))</Name><Prefix>\(XML.escape(prefix))</Prefix><KeyMarker>\(XML.escape(request.query("key-marker") ?? ""))</KeyMarker><VersionIdMarker>\(XML.escape(request.query("version-id-marker") ?? ""))</VersionIdMarker><MaxKeys>\(maxKeys)</MaxKeys><IsTruncated>\(truncated)</IsTruncated>"
        if truncated, let last = page.last {
            body += "<NextKeyMarker>\(XML.escape(last.key))</NextKeyMarker><NextVersionIdMarker>\(XML.escape(last.versionId))</NextVersionIdMarker>"
        }
        for version in page {
            let common = "<Key>\(XML.escape(version.key))</Key><VersionId>\(XML.escape(version.versionId))</VersionId><IsLatest>\(version.isLatest)</IsLatest><LastModified>\(Timestamps.iso(version.lastModified))</LastModified><Owner><ID>\(request.caller.account)</ID></Owner>"
            if version.isDeleteMarker {
                body += "<DeleteMarker>\(common)</DeleteMarker>"
            } else {
                body += "<Version>\(common)<ETag>&quot;\(version.etag)&quot;</ETag><Size>\(version.size)</Size><StorageClass>STANDARD</StorageClass></Version>"
            }
        }
        return Self.xml(body + "</ListVersionsResult>")
    }
}
