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

    static func xml(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Calls the bucket service for `operation`, decoded once from `request` (`S3Operation(_:)`).
    func handle(_ operation: S3Operation, _ request: WireRequest) async throws -> Response {
        let caller = request.caller
        let versionId = request.query("versionId")
        switch operation {
        case .listBuckets:
            let list = try await buckets.listBuckets(caller: caller).map {
                "<Bucket><Name>\(XML.escape($0.name))</Name><CreationDate>\(Timestamps.iso($0.createdAt))</CreationDate></Bucket>"
            }.joined()
            return Self.xml("<ListAllMyBucketsResult xmlns=\"\(Self.namespace)\"><Owner><ID>\(caller.account)</ID><DisplayName>\(caller.account)</DisplayName></Owner><Buckets>\(list)</Buckets></ListAllMyBucketsResult>")
        case .createBucket(let bucket):
            try await buckets.createBucket(bucket, caller: caller)
            var headers = HTTPFields()
            headers[.location] = "/\(bucket)"
            return Response(status: .ok, headers: headers)
        case .headBucket(let bucket):
            _ = try await buckets.owned(bucket, by: caller)
            return Response(status: .ok)
        case .putBucketVersioning(let bucket):
            let text = String(decoding: request.body, as: UTF8.self)
            guard let status = XML.element("Status", in: text) else {
                throw S3Error(.malformedXML, "The XML you provided was not well-formed: expected <VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
            }
            try await buckets.setVersioning(bucket, status: status, caller: caller)
            return Response(status: .ok)
        case .getBucketVersioning(let bucket):
            let info = try await buckets.owned(bucket, by: caller)
            let status = info.versioning.map { "<Status>\($0.rawValue)</Status>" } ?? ""
            return Self.xml("<VersioningConfiguration xmlns=\"\(Self.namespace)\">\(status)</VersioningConfiguration>")
        case .getBucketLocation(let bucket):
            let info = try await buckets.owned(bucket, by: caller)
            let region = info.region == "us-east-1" ? "" : info.region
            return Self.xml("<LocationConstraint xmlns=\"\(Self.namespace)\">\(region)</LocationConstraint>")
        case .listObjects(let bucket):
            return try await list(request, bucket: bucket, v2: false)
        case .listObjectsV2(let bucket):
            return try await list(request, bucket: bucket, v2: true)
        case .listObjectVersions(let bucket):
            return try await listVersions(request, bucket: bucket)
        case .putObject(let bucket, let key):
            if let md5 = request.header("content-md5") {
                let actual = Data(Insecure.MD5.hash(data: request.body)).base64EncodedString()
                guard md5 == actual else { throw S3Error(.badDigest, "The Content-MD5 you specified did not match what we received.") }
            }
            let version = try await buckets.put(bucket, key: key, data: request.body, contentType: request.header("content-type"), caller: caller)
            var headers = HTTPFields()
            headers[.eTag] = "\"\(version.etag)\""
            if version.versionId != "null" { headers[.amzVersionId] = version.versionId }
            return Response(status: .ok, headers: headers)
        case .getObject(let bucket, let key):
            guard let range = request.header("range") else {
                // The whole object: passed on as it arrives from the store, never held whole.
                let (version, chunks) = try await buckets.stream(bucket, key: key, versionId: versionId, caller: caller)
                var headers = Self.objectHeaders(version)
                headers[.contentLength] = String(version.size)
                return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: version.size) { writer in
                    for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
            }
            let (version, data) = try await buckets.get(bucket, key: key, versionId: versionId, caller: caller)
            return try Self.object(version, data: data, range: range)
        case .headObject(let bucket, let key):
            let version = try await buckets.head(bucket, key: key, versionId: versionId, caller: caller)
            guard !version.isDeleteMarker else { throw S3Error(.methodNotAllowed, "The specified method is not allowed against a delete marker.") }
            var headers = Self.objectHeaders(version)
            headers[.contentLength] = String(version.size)
            return Response(status: .ok, headers: headers)
        case .deleteObject(let bucket, let key):
            let result = try await buckets.delete(bucket, key: key, versionId: versionId, caller: caller)
            var headers = HTTPFields()
            if let result, result.versionId != "null" || versionId != nil { headers[.amzVersionId] = result.versionId }
            if result?.isDeleteMarker == true { headers[.amzDeleteMarker] = "true" }
            return Response(status: .noContent, headers: headers)
        case .copyObject:
            throw S3Error(.notImplemented, "CopyObject is not implemented by otarig's S3 subset; download and upload the object instead")
        case .unsupported:
            throw S3Error(.notImplemented, "\(request.method.rawValue) \(request.rawPath) is not part of otarig's S3 subset")
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
        guard spec.count == 2 else { throw S3Error(.invalidRange, "The requested range is not satisfiable") }
        let count = data.count
        var start: Int, end: Int
        if spec[0].isEmpty {
            guard let suffix = Int(spec[1]), suffix > 0 else { throw S3Error(.invalidRange, "The requested range is not satisfiable") }
            start = max(0, count - suffix)
            end = count - 1
        } else {
            guard let first = Int(spec[0]) else { throw S3Error(.invalidRange, "The requested range is not satisfiable") }
            start = first
            end = spec[1].isEmpty ? count - 1 : min(Int(spec[1]) ?? count - 1, count - 1)
        }
        guard start < count, start <= end else { throw S3Error(.invalidRange, "The requested range is not satisfiable") }
        let slice = data.subdata(in: start..<(end + 1))
        headers[.contentRange] = "bytes \(start)-\(end)/\(count)"
        headers[.contentLength] = String(slice.count)
        return Response(status: .partialContent, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: slice)))
    }

    private func list(_ request: WireRequest, bucket: String, v2: Bool) async throws -> Response {
        let prefix = request.query("prefix") ?? ""
        let marker = v2 ? (request.query("continuation-token").map { SigV4Canonical.percentDecode($0) } ?? request.query("start-after")) : request.query("marker")
        let page = try await buckets.listPage(bucket, prefix: prefix, after: marker, maxKeys: Int(request.query("max-keys") ?? ""), caller: request.caller)
        let contents = page.items.map { version in
            "<Contents><Key>\(XML.escape(version.key))</Key><LastModified>\(Timestamps.iso(version.lastModified))</LastModified><ETag>&quot;\(version.etag)&quot;</ETag><Size>\(version.size)</Size><StorageClass>STANDARD</StorageClass></Contents>"
        }.joined()
        var body = "<ListBucketResult xmlns=\"\(Self.namespace)\"><Name>\(XML.escape(bucket))</Name><Prefix>\(XML.escape(prefix))</Prefix><MaxKeys>\(page.maxKeys)</MaxKeys><IsTruncated>\(page.isTruncated)</IsTruncated>"
        if v2 {
            body += "<KeyCount>\(page.items.count)</KeyCount>"
            if let token = request.query("continuation-token") { body += "<ContinuationToken>\(XML.escape(token))</ContinuationToken>" }
            if let next = page.nextKeyMarker { body += "<NextContinuationToken>\(XML.escape(next))</NextContinuationToken>" }
        } else {
            body += "<Marker>\(XML.escape(marker ?? ""))</Marker>"
            if let next = page.nextKeyMarker { body += "<NextMarker>\(XML.escape(next))</NextMarker>" }
        }
        return Self.xml(body + contents + "</ListBucketResult>")
    }

    private func listVersions(_ request: WireRequest, bucket: String) async throws -> Response {
        let prefix = request.query("prefix") ?? ""
        let page = try await buckets.versionsPage(bucket, prefix: prefix, keyMarker: request.query("key-marker"),
                                                  versionIdMarker: request.query("version-id-marker"),
                                                  maxKeys: Int(request.query("max-keys") ?? ""), caller: request.caller)
        var body = "<ListVersionsResult xmlns=\"\(Self.namespace)\"><Name>\(XML.escape(bucket))</Name><Prefix>\(XML.escape(prefix))</Prefix><KeyMarker>\(XML.escape(request.query("key-marker") ?? ""))</KeyMarker><VersionIdMarker>\(XML.escape(request.query("version-id-marker") ?? ""))</VersionIdMarker><MaxKeys>\(page.maxKeys)</MaxKeys><IsTruncated>\(page.isTruncated)</IsTruncated>"
        if let key = page.nextKeyMarker, let version = page.nextVersionIdMarker {
            body += "<NextKeyMarker>\(XML.escape(key))</NextKeyMarker><NextVersionIdMarker>\(XML.escape(version))</NextVersionIdMarker>"
        }
        for version in page.items {
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
