import Foundation

/// The S3 rules on top of an `ObjectStore`: bucket names as S3 checks them, and one account's buckets closed to
/// every other account.
public struct BucketService: Sendable {
    public let objects: any ObjectStore
    public let region: String
    let now: @Sendable () -> Date

    public init(objects: any ObjectStore, region: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.objects = objects
        self.region = region
        self.now = now
    }

    /// S3's bucket naming rules: 3–63 of `a-z 0-9 . -`, starting and ending with a letter or digit, no `..`, not an
    /// IP address.
    public static func checkName(_ name: String) throws(S3Error) {
        let invalid = S3Error(.invalidBucketName, "The specified bucket is not valid: '\(name)' (3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)")
        guard (3...63).contains(name.utf8.count), !name.contains(".."), !name.hasPrefix("xn--") else { throw invalid }
        let alnum: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
        guard name.utf8.allSatisfy({ alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              let first = name.utf8.first, let last = name.utf8.last, alnum(first), alnum(last) else { throw invalid }
        let parts = name.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { throw invalid }
    }

    /// The caller's bucket, or NoSuchBucket / AccessDenied.
    public func owned(_ name: String, by caller: Caller) async throws -> BucketInfo {
        guard let bucket = try await objects.bucket(name) else { throw S3Error.noSuchBucket(name) }
        guard bucket.owner == caller.account else { throw S3Error(.accessDenied, "Access Denied: bucket \(name) belongs to another account") }
        return bucket
    }

    public func createBucket(_ name: String, caller: Caller) async throws {
        try Self.checkName(name)
        try await objects.createBucket(name: name, owner: caller.account, region: region, now: now())
    }

    public func listBuckets(caller: Caller) async throws -> [BucketInfo] {
        try await objects.buckets().filter { $0.owner == caller.account }
    }

    public func setVersioning(_ name: String, status: String, caller: Caller) async throws {
        _ = try await owned(name, by: caller)
        guard let status = VersioningStatus(rawValue: status) else {
            throw S3Error(.malformedXML, "The versioning Status must be Enabled or Suspended (got '\(status)')")
        }
        try await objects.setVersioning(bucket: name, status: status)
    }

    public func put(_ bucket: String, key: String, data: Data, contentType: String?, caller: Caller) async throws -> ObjectVersion {
        _ = try await owned(bucket, by: caller)
        try Self.checkKey(key)
        return try await objects.put(bucket: bucket, key: key, data: data, contentType: contentType, now: now())
    }

    public func get(_ bucket: String, key: String, versionId: String?, caller: Caller) async throws -> (ObjectVersion, Data) {
        _ = try await owned(bucket, by: caller)
        return try await objects.get(bucket: bucket, key: key, versionId: versionId)
    }

    public func stream(_ bucket: String, key: String, versionId: String?, caller: Caller) async throws -> (ObjectVersion, AsyncThrowingStream<Data, any Error>) {
        _ = try await owned(bucket, by: caller)
        return try await objects.stream(bucket: bucket, key: key, versionId: versionId)
    }

    public func head(_ bucket: String, key: String, versionId: String?, caller: Caller) async throws -> ObjectVersion {
        _ = try await owned(bucket, by: caller)
        return try await objects.head(bucket: bucket, key: key, versionId: versionId)
    }

    public func list(_ bucket: String, prefix: String, caller: Caller) async throws -> [ObjectVersion] {
        _ = try await owned(bucket, by: caller)
        return try await objects.list(bucket: bucket, prefix: prefix)
    }

    public func versions(_ bucket: String, prefix: String, caller: Caller) async throws -> [ObjectVersion] {
        _ = try await owned(bucket, by: caller)
        return try await objects.versions(bucket: bucket, prefix: prefix)
    }

    /// The most keys one listing returns, and the default (Amazon S3 API reference, ListObjectsV2 `max-keys`).
    public static let maxKeysLimit = 1000

    /// One page of a listing: what ListObjects(V2) and ListObjectVersions return.
    public struct Page: Sendable, Equatable {
        /// The objects (or versions and delete markers) of this page, in key order.
        public var items: [ObjectVersion]
        /// `max-keys` as applied: the request's value clamped to 0…1000.
        public var maxKeys: Int
        /// Whether more items follow this page.
        public var isTruncated: Bool
        /// Where the next page starts (the last key of a truncated page), else nil.
        public var nextKeyMarker: String? { isTruncated ? items.last?.key : nil }
        /// The version id the next version page starts after, else nil.
        public var nextVersionIdMarker: String? { isTruncated ? items.last?.versionId : nil }
    }

    static func clamp(_ maxKeys: Int?) -> Int { min(max(maxKeys ?? maxKeysLimit, 0), maxKeysLimit) }

    /// A page of the current objects under `prefix` whose keys sort after `marker` (ListObjects `marker`,
    /// ListObjectsV2 `continuation-token` or `start-after`).
    public func listPage(_ bucket: String, prefix: String, after marker: String?, maxKeys: Int?, caller: Caller) async throws -> Page {
        var items = try await list(bucket, prefix: prefix, caller: caller)
        if let marker { items = items.filter { $0.key > marker } }
        let limit = Self.clamp(maxKeys)
        return Page(items: Array(items.prefix(limit)), maxKeys: limit, isTruncated: items.count > limit)
    }

    /// A page of the versions under `prefix` after (`keyMarker`, `versionIdMarker`); without a matching version
    /// marker, after every version of `keyMarker`.
    public func versionsPage(_ bucket: String, prefix: String, keyMarker: String?, versionIdMarker: String?, maxKeys: Int?,
                             caller: Caller) async throws -> Page {
        var items = try await versions(bucket, prefix: prefix, caller: caller)
        if let keyMarker {
            if let versionIdMarker, let index = items.firstIndex(where: { $0.key == keyMarker && $0.versionId == versionIdMarker }) {
                items = Array(items[(index + 1)...])
            } else {
                items = items.filter { $0.key > keyMarker }
            }
        }
        let limit = Self.clamp(maxKeys)
        return Page(items: Array(items.prefix(limit)), maxKeys: limit, isTruncated: items.count > limit)
    }

    public func delete(_ bucket: String, key: String, versionId: String?, caller: Caller) async throws -> ObjectVersion? {
        _ = try await owned(bucket, by: caller)
        return try await objects.delete(bucket: bucket, key: key, versionId: versionId, now: now())
    }

    /// Object keys: 1..1024 bytes of UTF-8.
    public static func checkKey(_ key: String) throws(S3Error) {
        guard (1...1024).contains(key.utf8.count) else {
            throw S3Error(.keyTooLongError, "Object keys are 1 to 1024 bytes long (got \(key.utf8.count))")
        }
    }
}
