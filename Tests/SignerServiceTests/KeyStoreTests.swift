import CodeSigning
import Foundation
import Testing
@testable import SignerService

@Suite("The directory key store")
struct KeyStoreTests {
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-keystore-\(UUID().uuidString)")
        return url
    }

    static func bundle(days: Int = 30) throws -> (certificate: [UInt8], key: [UInt8], signingKey: SigningKey) {
        let key = try SigningKey.generate(.ecP256)
        let issued = try CertificateFactory.codeSigningCertificate(commonName: "store test", key: key, notBefore: Date().addingTimeInterval(-60), days: days)
        return (Array(issued.certificatePEM.utf8), Array(key.pemRepresentation.utf8), key)
    }

    @Test("imports, lists, finds and deletes a certificate under an ACM ARN")
    func lifecycle() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DirectoryKeyStore(directory: directory)
        let material = try Self.bundle()
        let record = try await store.importCertificate(certificate: material.certificate, privateKey: material.key, chain: nil,
                                                 region: "eu-west-1", account: "111122223333", now: Date())
        #expect(record.arn.hasPrefix("arn:aws:acm:eu-west-1:111122223333:certificate/"))
        #expect(UUID(uuidString: String(record.arn.split(separator: "/").last ?? "")) != nil)
        #expect(try await store.list().map(\.arn) == [record.arn])
        #expect(try await store.certificate(arn: record.arn) == record)
        #expect(try await store.signingKey(arn: record.arn).certificatePublicKey == material.signingKey.certificatePublicKey)
        #expect(try await store.certificate(arn: record.arn.replacingOccurrences(of: "eu-west-1", with: "us-east-1")) == nil)
        #expect(try await store.delete(arn: record.arn))
        #expect(try await store.list().isEmpty)
        #expect(try await !store.delete(arn: record.arn))
    }

    @Test("keeps the private key at mode 0600 in a 0700 folder, and never in the record")
    func keyFileMode() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DirectoryKeyStore(directory: directory)
        let material = try Self.bundle()
        let record = try await store.importCertificate(certificate: material.certificate, privateKey: material.key, chain: nil, region: "us-east-1", account: "123456789012", now: Date())
        let folder = directory.appendingPathComponent(String(record.arn.split(separator: "/").last ?? ""))
        let keyAttributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("key.pem").path)
        #expect((keyAttributes[.posixPermissions] as? Int) == 0o600)
        let folderAttributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((folderAttributes[.posixPermissions] as? Int) == 0o700)
        let recordText = try String(contentsOf: folder.appendingPathComponent("record.json"), encoding: .utf8)
        #expect(!recordText.contains("PRIVATE KEY"))
    }

    @Test("stores nothing when the import is refused")
    func refusedImportLeavesNothing() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DirectoryKeyStore(directory: directory)
        let material = try Self.bundle()
        let stranger = try Self.bundle()
        let mismatch = await #expect(throws: CodeSigningError.self) {
            try await store.importCertificate(certificate: material.certificate, privateKey: stranger.key, chain: nil, region: "us-east-1", account: "123456789012", now: Date())
        }
        #expect(mismatch?.code == .keyMismatch)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
