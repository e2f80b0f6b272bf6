import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SignerAPI
import SignerService
import SigV4

/// `ObjectStore` over an external S3-compatible endpoint (AWS S3, moto_server, MinIO, another `otarig serve`), path-style
/// (`http://HOST:PORT/<bucket>/<key>`), every request signed with SigV4 by `SigV4ClientSigner`.
///
/// Payloads are signed: `x-amz-content-sha256` is the SHA-256 of the body (never `UNSIGNED-PAYLOAD`), and PutObject
/// and PutBucketVersioning also send `Content-MD5`, so the store checks every byte it keeps. A body is sent from the
/// `Data` given without copying it whole, and an answer is collected up to `maximumResponseBytes`. Every request has a
/// deadline (`timeout`).
///
/// S3 has no otarig accounts: the account that created a bucket through otarig is kept in a `BucketRegistry`; a bucket
/// otarig never created belongs to `defaultOwner`.
///
/// The store must offer: path-style addressing, SigV4, CreateBucket, GetBucketVersioning/PutBucketVersioning,
/// ListBuckets, PutObject/GetObject/HeadObject/DeleteObject with `versionId`, ListObjectsV2 and ListObjectVersions.
/// Byte ranges are not used.
public final class S3ObjectStore: ObjectStore {
    /// The store's base URL (`http://HOST:PORT/`).
    public let endpoint: URL
    /// The region requests are signed for and buckets are created in.
    public let region: String
    /// The deadline of one request, connecting included.
    public let timeout: TimeAmount
    /// The largest answer collected (an object body or a listing page); larger ones fail the call.
    public let maximumResponseBytes: Int
    /// `max-keys` for listings; nil lets the store choose (S3: 1000). Small values exercise paging in tests.
    public let pageSize: Int?

    private let signer: SigV4ClientSigner
    private let registry: any BucketRegistry
    private let defaultOwner: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let scheme: String
    private let hostHeader: String
    private let creationDates = CreationDates()

    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// A store at `endpoint` (http or https, path-style, at the root: `http://HOST:PORT/`), signing as `accessKeyId`
    /// for `region`. `clock` is the time requests are signed with.
    public init(endpoint: URL, accessKeyId: String, secretAccessKey: String, region: String, registry: any BucketRegistry,
                defaultOwner: String, httpClient: HTTPClient = .shared, logger: Logger, timeout: TimeAmount = .seconds(60),
                maximumResponseBytes: Int = 256 << 20, pageSize: Int? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
        self.pageSize = pageSize
        self.signer = SigV4ClientSigner(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, region: region)
        self.registry = registry
        self.defaultOwner = defaultOwner
        self.httpClient = httpClient
        self.logger = logger
        self.clock = clock
        self.scheme = endpoint.scheme?.lowercased() == "https" ? "https" : "http"
        let host = endpoint.host ?? "127.0.0.1"
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        self.hostHeader = endpoint.port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    /// An HTTP client for a store the service depends on: a refused connection fails at once (AsyncHTTPClient's
    /// shared client retries it until the request's deadline), so `/health` and a job's retries see the outage as it
    /// happens; connecting gives up after 2 s. Lives as long as the process.
    public static func failFastHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(2)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Shuts down the HTTP client this store was given, when the store made it for itself with
    /// `failFastHTTPClient()` (never `HTTPClient.shared`): AsyncHTTPClient requires it before the client goes away.
    public func shutdownHTTPClient() async throws {
        guard httpClient !== HTTPClient.shared else { return }
        try await httpClient.shutdown()
    }

    /// Why a location is not an object store's.
    public struct LocationError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// `s3://HOST:PORT/` → `http://HOST:PORT/`; `s3s://HOST:PORT/` → `https://HOST:PORT/`; `http://` and `https://`
    /// as given. The path must be empty or `/` (buckets are addressed path-style from the root).
    public static func parseLocation(_ text: String) throws(LocationError) -> URL {
        let expected = "expected s3://HOST:PORT/ (plain HTTP, path-style) or s3s://HOST:PORT/ (HTTPS)"
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)), let given = components.scheme?.lowercased() else {
            throw LocationError(description: "'\(text)' is not an object store location: \(expected)")
        }
        let scheme: String
        switch given {
        case "s3", "http": scheme = "http"
        case "s3s", "https": scheme = "https"
        default: throw LocationError(description: "'\(text)' is not an object store location (scheme '\(given)'): \(expected)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw LocationError(description: "'\(text)' names no host: \(expected)")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw LocationError(description: "'\(text)' has a path ('\(components.path)'); buckets are addressed path-style from the root: \(expected)")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            throw LocationError(description: "'\(text)' carries a query, fragment or user name: \(expected)")
        }
        var out = URLComponents()
        out.scheme = scheme
        out.host = host
        out.port = components.port
        out.path = "/"
        guard let url = out.url else { throw LocationError(description: "'\(text)' is not an object store location: \(expected)") }
        return url
    }

    // MARK: - ObjectStore

    public func createBucket(name: String, owner: String, region: String, now: Date) async throws {
        // Taken already, through otarig or outside it (then it is the default owner's)? S3 in us-east-1 answers a
        // second CreateBucket by the same key with 200, so the registry, not the store, says who created it.
        if let recorded = try await registry.owner(of: name) { throw Self.taken(name, recorded: recorded, by: owner) }
        if case .present = try await bucketState(name) { throw Self.taken(name, recorded: defaultOwner, by: owner) }
        var body = Data()
        if region != "us-east-1" {
            body = Data("<CreateBucketConfiguration xmlns=\"\(Self.namespace)\"><LocationConstraint>\(S3XML.escape(region))</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        let response = try await send(.PUT, bucket: name, body: body)
        guard response.status == 200 else {
            let error = failure(response, bucket: name)
            if let s3 = error as? S3Error, s3.code == .bucketAlreadyOwnedByYou {
                throw Self.taken(name, recorded: try await registry.owner(of: name) ?? defaultOwner, by: owner)
            }
            throw error
        }
        guard try await registry.record(bucket: name, owner: owner, region: region, createdAt: now) else {
            throw Self.taken(name, recorded: try await registry.owner(of: name) ?? defaultOwner, by: owner)
        }
        await creationDates.set(name, now)
        logger.info("created bucket in the object store", metadata: ["bucket": "\(name)", "owner": "\(owner)", "store": "\(endpoint.absoluteString)"])
    }

    /// The error DiskObjectStore gives for a name already taken.
    static func taken(_ name: String, recorded: String, by owner: String) -> S3Error {
        recorded == owner
            ? S3Error(.bucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
            : S3Error(.bucketAlreadyExists, "The requested bucket name is not available.")
    }

    public func bucket(_ name: String) async throws -> BucketInfo? {
        guard case .present(let versioning) = try await bucketState(name) else { return nil }
        let owner = try await registry.owner(of: name) ?? defaultOwner
        return BucketInfo(name: name, owner: owner, region: region, createdAt: try await creationDate(name), versioning: versioning)
    }

    /// A bucket as GetBucketVersioning sees it.
    private enum BucketState {
        case missing
        /// With its versioning status, nil when versioning was never set.
        case present(VersioningStatus?)
    }

    /// GetBucketVersioning: whether the bucket exists, and its versioning status.
    private func bucketState(_ name: String) async throws -> BucketState {
        let response = try await send(.GET, bucket: name, query: [("versioning", nil)])
        if response.status == 404, S3XML.error(response.body)?.code == S3Error.Code.noSuchBucket.rawValue || S3XML.error(response.body) == nil {
            return .missing
        }
        guard response.status == 200 else { throw failure(response, bucket: name) }
        do {
            return .present(try S3XML.versioning(response.body))
        } catch {
            throw S3Error(.internalError, "the object store at \(endpoint.absoluteString) answered GetBucketVersioning for \(name) with \(error)")
        }
    }

    /// When `name` was created: remembered from CreateBucket or ListBuckets (S3 says it nowhere else).
    private func creationDate(_ name: String) async throws -> Date {
        if let date = await creationDates.get(name) { return date }
        _ = try await listAllBuckets()
        return await creationDates.get(name) ?? Date(timeIntervalSince1970: 0)
    }

    /// Every bucket the key can see (ListBuckets, following continuation tokens).
    private func listAllBuckets() async throws -> [S3XML.BucketEntry] {
        var all: [S3XML.BucketEntry] = []
        var token: String?
        repeat {
            var query: [(String, String?)] = []
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.GET, bucket: nil, query: query)
            guard response.status == 200 else { throw failure(response, bucket: nil) }
            let page = try parsed("ListBuckets") { () throws(S3XML.ParseError) in try S3XML.buckets(response.body) }
            all += page.buckets
            token = page.continuationToken
        } while token != nil
        for entry in all { await creationDates.set(entry.name, entry.createdAt) }
        return all
    }

    public func buckets() async throws -> [BucketInfo] {
        let entries = try await listAllBuckets()
        return try await withThrowingTaskGroup(of: BucketInfo?.self) { group in
            for entry in entries {
                group.addTask {
                    // A bucket removed between the listing and this call is left out.
                    guard case .present(let versioning) = try await self.bucketState(entry.name) else { return nil }
                    let owner = try await self.registry.owner(of: entry.name) ?? self.defaultOwner
                    return BucketInfo(name: entry.name, owner: owner, region: self.region, createdAt: entry.createdAt, versioning: versioning)
                }
            }
            var infos: [BucketInfo] = []
            for try await info in group { if let info { infos.append(info) } }
            return infos.sorted { $0.name < $1.name }
        }
    }

    public func setVersioning(bucket: String, status: VersioningStatus) async throws {
        let body = Data("<VersioningConfiguration xmlns=\"\(Self.namespace)\"><Status>\(status.rawValue)</Status></VersioningConfiguration>".utf8)
        let response = try await send(.PUT, bucket: bucket, query: [("versioning", nil)], headers: [("content-md5", Self.md5Base64(body))], body: body)
        guard response.status == 200 else { throw failure(response, bucket: bucket) }
    }

    public func put(bucket: String, key: String, data: Data, contentType: String?, now: Date) async throws -> ObjectVersion {
        var headers = [("content-md5", Self.md5Base64(data))]
        if let contentType { headers.append(("content-type", contentType)) }
        let response = try await send(.PUT, bucket: bucket, key: key, headers: headers, body: data)
        guard response.status == 200 else { throw failure(response, bucket: bucket, key: key) }
        let etag = response.headers.first(name: "etag").map(S3XML.unquote) ?? HexEncoding.lowercase(Insecure.MD5.hash(data: data))
        return ObjectVersion(bucket: bucket, key: key, versionId: response.headers.first(name: "x-amz-version-id") ?? "null", size: data.count,
                             etag: etag, lastModified: now, contentType: contentType, isDeleteMarker: false, isLatest: true)
    }

    public func get(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, Data) {
        let response = try await send(.GET, bucket: bucket, key: key, query: versionId.map { [("versionId", $0)] } ?? [])
        guard response.status == 200 || response.status == 206 else {
            let error = failure(response, bucket: bucket, key: key, versionId: versionId)
            // AWS answers a GET of a delete marker's version with 405 MethodNotAllowed; moto_server with 404
            // NoSuchVersion. HEAD tells them apart (405 in both), so the caller sees AWS's answer either way.
            if let versionId, (error as? S3Error)?.code == .noSuchVersion,
               (try? await head(bucket: bucket, key: key, versionId: versionId))?.isDeleteMarker == true {
                throw S3Error(.methodNotAllowed, "The specified method is not allowed against this resource (a delete marker).",
                              deleteMarkerVersionId: versionId)
            }
            let named = Self.naming(deleteMarkerOf: response.headers, error)
            // moto_server's GET does not name the delete marker that hides a key (AWS's does); its HEAD does.
            if versionId == nil, var s3 = named as? S3Error, s3.code == .noSuchKey, s3.deleteMarkerVersionId == nil,
               let marker = try? await latestVersionId(bucket: bucket, key: key) {
                s3.deleteMarkerVersionId = marker
                throw s3
            }
            throw named
        }
        var version = self.version(bucket: bucket, key: key, headers: response.headers, size: response.body.count)
        if let versionId { version.isLatest = try await latestVersionId(bucket: bucket, key: key) == versionId }
        return (version, response.body)
    }

    /// GetObject passed on chunk by chunk as the store sends it. An answer other than 200 goes the buffered way of
    /// `get`, which names the error as AWS would.
    public func stream(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, AsyncThrowingStream<Data, any Error>) {
        let query = versionId.map { [("versionId", $0)] } ?? []
        let (request, rawPath) = signedRequest(.GET, bucket: bucket, key: key, query: query)
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: timeout)
        } catch {
            throw StoreError("the object store at \(endpoint.absoluteString) cannot be reached: \(Self.words(for: error, timeout: timeout))")
        }
        guard response.status.code == 200 else {
            _ = try? await response.body.collect(upTo: 1 << 20)
            let (version, data) = try await get(bucket: bucket, key: key, versionId: versionId)
            return (version, AsyncThrowingStream { continuation in
                continuation.yield(data)
                continuation.finish()
            })
        }
        var version = self.version(bucket: bucket, key: key, headers: response.headers,
                                   size: response.headers.first(name: "content-length").flatMap { Int($0) } ?? 0)
        if let versionId { version.isLatest = try await latestVersionId(bucket: bucket, key: key) == versionId }
        let body = response.body
        let store = endpoint.absoluteString
        let stream = AsyncThrowingStream<Data, any Error> { continuation in
            let pump = Task {
                do {
                    for try await chunk in body { continuation.yield(Data(chunk.readableBytesView)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: StoreError("the object store at \(store) stopped sending \(rawPath): \(error)"))
                }
            }
            continuation.onTermination = { _ in pump.cancel() }
        }
        return (version, stream)
    }

    public func head(bucket: String, key: String, versionId: String?) async throws -> ObjectVersion {
        let response = try await send(.HEAD, bucket: bucket, key: key, query: versionId.map { [("versionId", $0)] } ?? [])
        switch response.status {
        case 200:
            var version = self.version(bucket: bucket, key: key, headers: response.headers,
                                       size: response.headers.first(name: "content-length").flatMap { Int($0) } ?? 0)
            if let versionId { version.isLatest = try await latestVersionId(bucket: bucket, key: key) == versionId }
            return version
        case 405 where versionId != nil:
            // The version named is a delete marker (S3: 405 with x-amz-delete-marker); DiskObjectStore returns it.
            guard let versionId else { break }
            let modified = response.headers.first(name: "last-modified").flatMap(S3XML.httpDate) ?? clock()
            return ObjectVersion(bucket: bucket, key: key, versionId: versionId, size: 0, etag: "", lastModified: modified, contentType: nil,
                                 isDeleteMarker: true, isLatest: try await latestVersionId(bucket: bucket, key: key) == versionId)
        case 404, 400:
            guard response.status == 404 || versionId != nil else { break }
            // A HEAD answer has no body to say which of NoSuchBucket, NoSuchKey and NoSuchVersion it was.
            guard case .present = try await bucketState(bucket) else { throw S3Error.noSuchBucket(bucket) }
            throw Self.naming(deleteMarkerOf: response.headers, versionId == nil ? Self.noSuchKey : Self.noSuchVersion)
        default:
            break
        }
        throw failure(response, bucket: bucket, key: key, versionId: versionId)
    }

    static let noSuchKey = S3Error(.noSuchKey, "The specified key does not exist.")

    /// `error` with the delete marker the store's answer names (`x-amz-delete-marker: true` and its version id), so
    /// the service's own answer names it too.
    static func naming(deleteMarkerOf headers: HTTPHeaders, _ error: any Error) -> any Error {
        guard var s3 = error as? S3Error, headers.first(name: "x-amz-delete-marker") == "true",
              let marker = headers.first(name: "x-amz-version-id") else { return error }
        s3.deleteMarkerVersionId = marker
        return s3
    }
    static let noSuchVersion = S3Error(.noSuchVersion, "The specified version does not exist.")

    /// The version id of the latest entry of `key` (an object or a delete marker), or nil.
    private func latestVersionId(bucket: String, key: String) async throws -> String? {
        let response = try await send(.HEAD, bucket: bucket, key: key)
        if let versionId = response.headers.first(name: "x-amz-version-id") { return versionId }
        if response.status == 200 { return "null" }
        guard response.status == 404 else { return nil }
        // S3 and moto name the delete marker that hides a key (404 with x-amz-delete-marker and x-amz-version-id);
        // otarig's own S3 subset does not, so the version listing says.
        return try await versions(bucket: bucket, prefix: key).first { $0.key == key && $0.isLatest }?.versionId
    }

    private func version(bucket: String, key: String, headers: HTTPHeaders, size: Int) -> ObjectVersion {
        ObjectVersion(bucket: bucket, key: key, versionId: headers.first(name: "x-amz-version-id") ?? "null", size: size,
                      etag: headers.first(name: "etag").map(S3XML.unquote) ?? "",
                      lastModified: headers.first(name: "last-modified").flatMap(S3XML.httpDate) ?? clock(),
                      contentType: headers.first(name: "content-type"), isDeleteMarker: false, isLatest: true)
    }

    /// ListObjectsV2 does not report version ids or content types: each entry's `versionId` is empty and its
    /// `contentType` nil (use `versions` or `head` for them).
    public func list(bucket: String, prefix: String) async throws -> [ObjectVersion] {
        var out: [ObjectVersion] = []
        var token: String?
        repeat {
            var query: [(String, String?)] = [("list-type", "2"), ("encoding-type", "url"), ("prefix", prefix)]
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.GET, bucket: bucket, query: query)
            guard response.status == 200 else { throw failure(response, bucket: bucket) }
            let page = try parsed("ListObjectsV2") { () throws(S3XML.ParseError) in try S3XML.objects(response.body) }
            out += page.entries.map {
                ObjectVersion(bucket: bucket, key: $0.key, versionId: "", size: $0.size, etag: $0.etag, lastModified: $0.lastModified,
                              contentType: nil, isDeleteMarker: false, isLatest: true)
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return out
    }

    public func versions(bucket: String, prefix: String) async throws -> [ObjectVersion] {
        var entries: [S3XML.Entry] = []
        var markers: (key: String, version: String?)?
        repeat {
            var query: [(String, String?)] = [("versions", nil), ("encoding-type", "url"), ("prefix", prefix)]
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            if let markers {
                query.append(("key-marker", markers.key))
                if let version = markers.version { query.append(("version-id-marker", version)) }
            }
            let response = try await send(.GET, bucket: bucket, query: query)
            guard response.status == 200 else { throw failure(response, bucket: bucket) }
            let page = try parsed("ListObjectVersions") { () throws(S3XML.ParseError) in try S3XML.versions(response.body) }
            entries += page.entries
            markers = page.isTruncated ? page.nextKeyMarker.map { ($0, page.nextVersionIdMarker) } : nil
        } while markers != nil
        return S3XML.ordered(entries).map {
            ObjectVersion(bucket: bucket, key: $0.key, versionId: $0.versionId ?? "null", size: $0.size, etag: $0.etag, lastModified: $0.lastModified,
                          contentType: nil, isDeleteMarker: $0.isDeleteMarker, isLatest: $0.isLatest)
        }
    }

    public func delete(bucket: String, key: String, versionId: String?, now: Date) async throws -> ObjectVersion? {
        var removed: ObjectVersion?
        if let versionId {
            // DiskObjectStore returns what it deleted, and nil when there was no such version: ask first.
            do {
                removed = try await head(bucket: bucket, key: key, versionId: versionId)
            } catch let error as S3Error where error.code == .noSuchVersion || error.code == .noSuchKey {
                return nil
            }
        }
        let response = try await send(.DELETE, bucket: bucket, key: key, query: versionId.map { [("versionId", $0)] } ?? [])
        guard response.status == 204 || response.status == 200 else { throw failure(response, bucket: bucket, key: key, versionId: versionId) }
        if versionId != nil { return removed }
        guard response.headers.first(name: "x-amz-delete-marker") == "true" else { return nil }
        return ObjectVersion(bucket: bucket, key: key, versionId: response.headers.first(name: "x-amz-version-id") ?? "null", size: 0, etag: "",
                             lastModified: now, contentType: nil, isDeleteMarker: true, isLatest: true)
    }

    /// For a health check: ListBuckets (one bucket at most) answers. Throws the StoreError or S3Error that says why not.
    public func checkReachable() async throws {
        let response = try await send(.GET, bucket: nil, query: [("max-buckets", "1")])
        guard response.status == 200 else { throw failure(response, bucket: nil) }
    }

    // MARK: - HTTP

    /// One answer, its body collected.
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    /// One signed request, path-style: `/<bucket>[/<key>]?<query>`, and its raw path.
    func signedRequest(_ method: HTTPMethod, bucket: String?, key: String? = nil, query: [(String, String?)] = [],
                       headers extra: [(String, String)] = [], body: Data? = nil) -> (HTTPClientRequest, String) {
        var rawPath = "/"
        if let bucket {
            rawPath += SigV4ClientSigner.encode(bucket)
            if let key { rawPath += "/" + SigV4ClientSigner.encode(key, keepSlash: true) }
        }
        let rawQuery = query.map { name, value in
            value.map { "\(SigV4ClientSigner.encode(name))=\(SigV4ClientSigner.encode($0))" } ?? SigV4ClientSigner.encode(name)
        }.joined(separator: "&")
        let payloadHash = HexEncoding.lowercase(SHA256.hash(data: body ?? Data()))
        let unsigned = [("host", hostHeader)] + extra
        let signed = signer.sign(method: method.rawValue, rawPath: rawPath, rawQuery: rawQuery, headers: unsigned.map { (name: $0.0, value: $0.1) },
                                 payloadHash: payloadHash, service: "s3", now: clock())
        var request = HTTPClientRequest(url: "\(scheme)://\(hostHeader)\(rawPath)\(rawQuery.isEmpty ? "" : "?" + rawQuery)")
        request.method = method
        for (name, value) in unsigned { request.headers.add(name: name, value: value) }
        for header in signed { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(body) }
        return (request, rawPath)
    }

    /// Sends one signed request, path-style: `/<bucket>[/<key>]?<query>`.
    func send(_ method: HTTPMethod, bucket: String?, key: String? = nil, query: [(String, String?)] = [],
              headers extra: [(String, String)] = [], body: Data? = nil) async throws -> Answer {
        let (request, rawPath) = signedRequest(method, bucket: bucket, key: key, query: query, headers: extra, body: body)
        let rawQuery = request.url.contains("?") ? String(request.url.drop { $0 != "?" }.dropFirst()) : ""
        let started = ContinuousClock.now
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            var collected = Data()
            if method != .HEAD {
                if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }) {
                    guard length <= maximumResponseBytes else { throw TooLarge(bytes: length) }
                    collected.reserveCapacity(length)
                }
                for try await chunk in response.body {
                    guard collected.count + chunk.readableBytes <= maximumResponseBytes else { throw TooLarge(bytes: collected.count + chunk.readableBytes) }
                    collected.append(contentsOf: chunk.readableBytesView)
                }
            }
            logger.debug("object store request", metadata: [
                "method": "\(method.rawValue)", "path": "\(rawPath)", "query": "\(rawQuery)", "status": "\(response.status.code)",
                "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
            ])
            return Answer(status: Int(response.status.code), headers: response.headers, body: collected)
        } catch let large as TooLarge {
            throw StoreError("the object store at \(endpoint.absoluteString) answered \(method.rawValue) \(rawPath) with more than \(maximumResponseBytes) bytes (\(large.bytes)); raise the limit or keep objects smaller")
        } catch {
            throw StoreError("the object store at \(endpoint.absoluteString) cannot be reached: \(Self.words(for: error, timeout: timeout))")
        }
    }

    private struct TooLarge: Error { var bytes: Int }

    /// NIO's and the client's errors as a person reads them.
    static func words(for error: any Error, timeout: TimeAmount) -> String {
        if let io = error as? IOError { return String(describing: io) }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "no connection in time"
            case .deadlineExceeded: return "no answer within \(timeout.nanoseconds / 1_000_000_000) s"
            case .remoteConnectionClosed: return "the store closed the connection"
            default: return "\(client)"
            }
        }
        return "\(error)"
    }

    /// The error an answer other than success stands for: the store's S3 error code when otarig has it, else
    /// InternalError naming the store. Refusals of otarig's own credentials (AccessDenied, SignatureDoesNotMatch, …)
    /// become InternalError too: they are the service's configuration, not the caller's signature.
    func failure(_ answer: Answer, bucket: String?, key: String? = nil, versionId: String? = nil) -> any Error {
        let store = endpoint.absoluteString
        let what = [bucket, key].compactMap { $0 }.joined(separator: "/")
        guard let parsed = S3XML.error(answer.body) else {
            if answer.status == 404, let bucket { return key == nil ? S3Error.noSuchBucket(bucket) : (versionId == nil ? Self.noSuchKey : Self.noSuchVersion) }
            return S3Error(.internalError, "the object store at \(store) answered HTTP \(answer.status) for \(what.isEmpty ? "/" : what): \(S3XML.preview(answer.body))")
        }
        let (code, message) = parsed
        if code == "InvalidArgument", versionId != nil {
            return S3Error(.noSuchVersion, "The specified version does not exist (the object store says: \(message))")
        }
        guard let known = S3Error.Code(rawValue: code) else {
            return S3Error(.internalError, "the object store at \(store) answered HTTP \(answer.status) \(code) for \(what.isEmpty ? "/" : what): \(message)")
        }
        switch known {
        case .accessDenied, .signatureDoesNotMatch, .invalidAccessKeyId, .authorizationHeaderMalformed, .requestTimeTooSkewed, .missingSecurityHeader:
            return S3Error(.internalError, "the object store at \(store) refused otarig's credentials (\(code)): \(message)")
        default:
            return S3Error(known, message)
        }
    }

    /// Runs a parse, turning its failure into InternalError naming the store.
    private func parsed<T>(_ operation: String, _ body: () throws(S3XML.ParseError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw S3Error(.internalError, "the object store at \(endpoint.absoluteString) answered \(operation) with \(error)")
        }
    }

    static func md5Base64(_ data: Data) -> String { Data(Insecure.MD5.hash(data: data)).base64EncodedString() }
}

/// Bucket creation dates seen (S3 reports them only in ListBuckets).
private actor CreationDates {
    private var dates: [String: Date] = [:]
    func get(_ name: String) -> Date? { dates[name] }
    func set(_ name: String, _ date: Date) { dates[name] = date }
}
