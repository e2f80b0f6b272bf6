import Foundation
import ObjectStoreS3
import SignerService
import Testing

/// S3's XML answers as the Amazon S3 API reference prints them. Each body below is the reference's own sample; the
/// expected values are read off the same page, not from the parser.
@Suite struct S3XMLTests {
    /// ListObjectVersions, "Sample Response" (Amazon S3 API Reference, ListObjectVersions — Examples,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html, formerly RESTBucketGETVersion.html).
    static let listVersionsSample = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
            <Name>bucket</Name>
            <Prefix>my</Prefix>
            <KeyMarker/>
            <VersionIdMarker/>
            <MaxKeys>5</MaxKeys>
            <IsTruncated>false</IsTruncated>
            <Version>
                <Key>my-image.jpg</Key>
                <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
                <IsLatest>true</IsLatest>
                 <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
                <Size>434234</Size>
                <StorageClass>STANDARD</StorageClass>
                <Owner>
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>mtd@amazon.com</DisplayName>
                </Owner>
            </Version>
            <DeleteMarker>
                <Key>my-second-image.jpg</Key>
                <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
                <IsLatest>true</IsLatest>
                <LastModified>2009-11-12T17:50:30.000Z</LastModified>
                <Owner>
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>mtd@amazon.com</DisplayName>
                </Owner>
            </DeleteMarker>
            <Version>
                <Key>my-second-image.jpg</Key>
                <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>
                <IsLatest>false</IsLatest>
                <LastModified>2009-10-10T17:50:30.000Z</LastModified>
                <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
                <Size>166434</Size>
                <StorageClass>STANDARD</StorageClass>
                <Owner>
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>mtd@amazon.com</DisplayName>
                </Owner>
            </Version>
            <DeleteMarker>
                <Key>my-third-image.jpg</Key>
                <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
                <IsLatest>true</IsLatest>
                <LastModified>2009-10-15T17:50:30.000Z</LastModified>
                <Owner>
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>mtd@amazon.com</DisplayName>
                </Owner>
            </DeleteMarker>
            <Version>
                <Key>my-third-image.jpg</Key>
                <VersionId>UIORUnfndfhnw89493jJFJ</VersionId>
                <IsLatest>false</IsLatest>
                <LastModified>2009-10-11T12:50:30.000Z</LastModified>
                <ETag>&quot;772cf535f27731c974343645a3985328&quot;</ETag>
                <Size>64</Size>
                <StorageClass>STANDARD</StorageClass>
                <Owner>
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>mtd@amazon.com</DisplayName>
                </Owner>
             </Version>
        </ListVersionsResult>
        """

    static func utc(_ text: String) -> Date {
        // Seconds since 1970 computed outside the code under test: `date -u -d 2009-10-12T17:50:30Z +%s` = 1255369830.
        let known: [String: TimeInterval] = [
            "2009-10-12T17:50:30Z": 1_255_369_830, "2009-11-12T17:50:30Z": 1_258_048_230, "2009-10-10T17:50:30Z": 1_255_197_030,
            "2009-10-15T17:50:30Z": 1_255_629_030, "2009-10-11T12:50:30Z": 1_255_265_430, "2013-09-17T18:07:53Z": 1_379_441_273,
            "2014-11-21T19:40:05Z": 1_416_598_805, "2019-12-11T23:32:47Z": 1_576_107_167, "2009-10-12T17:50:00Z": 1_255_369_800,
        ]
        return Date(timeIntervalSince1970: known[text] ?? .nan)
    }

    @Test func listObjectVersionsSample() throws {
        let page = try S3XML.versions(Data(Self.listVersionsSample.utf8))
        #expect(page.isTruncated == false)
        #expect(page.entries.map(\.key) == ["my-image.jpg", "my-second-image.jpg", "my-second-image.jpg", "my-third-image.jpg", "my-third-image.jpg"])
        #expect(page.entries.map(\.versionId) == ["3/L4kqtJl40Nr8X8gdRQBpUMLUo", "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892",
                                                  "QUpfdndhfd8438MNFDN93jdnJFkdmqnh893", "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892",
                                                  "UIORUnfndfhnw89493jJFJ"])
        #expect(page.entries.map(\.isDeleteMarker) == [false, true, false, true, false])
        #expect(page.entries.map(\.isLatest) == [true, true, false, true, false])
        #expect(page.entries.map(\.etag) == ["fba9dede5f27731c9771645a39863328", "", "9b2cf535f27731c974343645a3985328", "",
                                             "772cf535f27731c974343645a3985328"])
        #expect(page.entries.map(\.size) == [434_234, 0, 166_434, 0, 64])
        #expect(page.entries.map(\.lastModified) == ["2009-10-12T17:50:30Z", "2009-11-12T17:50:30Z", "2009-10-10T17:50:30Z",
                                                     "2009-10-15T17:50:30Z", "2009-10-11T12:50:30Z"].map(Self.utc))
    }

    /// moto sends every <Version> before every <DeleteMarker>; the order the ObjectStore promises is by key, the latest
    /// first, then newest first.
    @Test func versionsAreOrderedLatestFirstWhateverTheDocumentOrder() throws {
        let page = try S3XML.versions(Data(Self.listVersionsSample.utf8))
        let versionsFirst = page.entries.filter { !$0.isDeleteMarker } + page.entries.filter(\.isDeleteMarker)
        #expect(S3XML.ordered(versionsFirst) == page.entries)
        #expect(S3XML.ordered(page.entries.reversed()) == page.entries)
    }

    /// ListObjectsV2, "Example 1: Listing keys" (Amazon S3 API Reference, ListObjectsV2 — Examples,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
    @Test func listObjectsV2Example1() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                <Name>bucket</Name>
                <Prefix/>
                <KeyCount>205</KeyCount>
                <MaxKeys>1000</MaxKeys>
                <IsTruncated>false</IsTruncated>
                <Contents>
                    <Key>my-image.jpg</Key>
                    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
                    <Size>434234</Size>
                    <StorageClass>STANDARD</StorageClass>
                </Contents>
            </ListBucketResult>
            """
        let page = try S3XML.objects(Data(body.utf8))
        #expect(page.isTruncated == false)
        #expect(page.nextContinuationToken == nil)
        #expect(page.entries == [S3XML.Entry(key: "my-image.jpg", versionId: nil, isLatest: true, isDeleteMarker: false,
                                             lastModified: Self.utc("2009-10-12T17:50:30Z"), etag: "fba9dede5f27731c9771645a39863328", size: 434_234)])
    }

    /// ListObjectsV2, "Example 4: Using a continuation token" (same page): a truncated answer and its token.
    @Test func listObjectsV2ContinuationToken() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>bucket</Name>
              <Prefix></Prefix>
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
              <KeyCount>1000</KeyCount>
              <MaxKeys>1000</MaxKeys>
              <IsTruncated>true</IsTruncated>
              <Contents>
                <Key>happyface.jpg</Key>
                <LastModified>2014-11-21T19:40:05.000Z</LastModified>
                <ETag>&quot;70ee1738b6b21e2c8a43f3a5ab0eee71&quot;</ETag>
                <Size>11</Size>
                <StorageClass>STANDARD</StorageClass>
              </Contents>
            </ListBucketResult>
            """
        let page = try S3XML.objects(Data(body.utf8))
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(page.entries.map(\.key) == ["happyface.jpg"])
        #expect(page.entries.map(\.etag) == ["70ee1738b6b21e2c8a43f3a5ab0eee71"])
        #expect(page.entries.map(\.lastModified) == [Self.utc("2014-11-21T19:40:05Z")])
    }

    /// With `encoding-type=url` S3 encodes keys as botocore decodes them (`unquote_plus`): `+` a space, `%XX` a byte.
    @Test func urlEncodedKeysAreDecoded() throws {
        let body = """
            <ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
            <Contents><Key>fw/my+image%2B1%C3%A9.bin</Key><LastModified>2014-11-21T19:40:05.000Z</LastModified><ETag>"x"</ETag><Size>1</Size></Contents>
            </ListBucketResult>
            """
        #expect(try S3XML.objects(Data(body.utf8)).entries.map(\.key) == ["fw/my image+1é.bin"])
    }

    /// GetBucketVersioning (Amazon S3 API Reference, GetBucketVersioning — Examples,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html): Enabled, Suspended, and the
    /// empty configuration of a bucket that never had versioning.
    @Test func getBucketVersioning() throws {
        let enabled = #"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#
        let suspended = #"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>"#
        let never = #"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#
        #expect(try S3XML.versioning(Data(enabled.utf8)) == .enabled)
        #expect(try S3XML.versioning(Data(suspended.utf8)) == .suspended)
        #expect(try S3XML.versioning(Data(never.utf8)) == nil)
        #expect(throws: S3XML.ParseError.self) { try S3XML.versioning(Data("<Error><Code>NoSuchBucket</Code></Error>".utf8)) }
    }

    /// ListBuckets, "Sample Response" (Amazon S3 API Reference, ListBuckets — Examples,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html): dates with `+00:00`.
    @Test func listBuckets() throws {
        let body = """
            <ListAllMyBucketsResult>
              <Buckets>
                <Bucket>
                  <CreationDate>2019-12-11T23:32:47+00:00</CreationDate>
                  <Name>amzn-s3-demo-bucket</Name>
                </Bucket>
              </Buckets>
              <Owner>
                <DisplayName>Account+Name</DisplayName>
                <ID>AIDACKCEVSQ6C2EXAMPLE</ID>
              </Owner>
            </ListAllMyBucketsResult>
            """
        let parsed = try S3XML.buckets(Data(body.utf8))
        #expect(parsed.buckets == [S3XML.BucketEntry(name: "amzn-s3-demo-bucket", createdAt: Self.utc("2019-12-11T23:32:47Z"))])
        #expect(parsed.continuationToken == nil)
    }

    /// "Error responses" (Amazon S3 API Reference, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
    @Test func errorResponse() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>NoSuchKey</Code>
              <Message>The resource you requested does not exist</Message>
              <Resource>/mybucket/myfoto.jpg</Resource>
              <RequestId>4442587FB7D0A2F9</RequestId>
            </Error>
            """
        let parsed = S3XML.error(Data(body.utf8))
        #expect(parsed?.code == "NoSuchKey")
        #expect(parsed?.message == "The resource you requested does not exist")
        #expect(S3XML.error(Data("<html>502 Bad Gateway</html>".utf8)) == nil)
        #expect(S3XML.error(Data()) == nil)
    }

    /// RFC 9110 section 5.6.7's IMF-fixdate, as Last-Modified carries it.
    @Test func httpDate() {
        #expect(S3XML.httpDate("Mon, 12 Oct 2009 17:50:00 GMT") == Self.utc("2009-10-12T17:50:00Z"))
        #expect(S3XML.httpDate("yesterday") == nil)
    }

    @Test func notXML() {
        #expect(throws: S3XML.ParseError.self) { try S3XML.objects(Data("not xml at all".utf8)) }
        #expect(throws: S3XML.ParseError.self) {
            try S3XML.objects(Data("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8))
        }
    }
}
