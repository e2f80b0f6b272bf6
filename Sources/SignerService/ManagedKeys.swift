import CodeSigning
import Foundation
import SwiftASN1
import X509

/// Where the managed root CA and signer keys live: a directory by default, the database when several instances share
/// one (they must all sign with the same root).
public protocol ManagedKeyStorage: Sendable {
    /// The PEM pair stored under `name` ("root" or "signer"), or nil.
    func load(_ name: String) async throws -> (certificatePEM: String, keyPEM: String)?
    /// Stores the pair under `name` if the stored certificate is still `replacing` (nil: none stored yet); returns the
    /// pair stored afterwards: the caller's, or the one another instance stored first.
    func store(_ name: String, certificatePEM: String, keyPEM: String, replacing: String?) async throws -> (certificatePEM: String, keyPEM: String)
}

/// `ManagedKeyStorage` in a directory: `<name>.crt.pem` and `<name>.key.pem` (mode 0600). One process owns it.
public final class DirectoryManagedKeyStorage: ManagedKeyStorage {
    private let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func load(_ name: String) async throws -> (certificatePEM: String, keyPEM: String)? {
        guard let cert = try? Data(contentsOf: directory.appendingPathComponent("\(name).crt.pem")),
              let key = try? Data(contentsOf: directory.appendingPathComponent("\(name).key.pem")) else { return nil }
        return (String(decoding: cert, as: UTF8.self), String(decoding: key, as: UTF8.self))
    }

    public func store(_ name: String, certificatePEM: String, keyPEM: String, replacing: String?) async throws -> (certificatePEM: String, keyPEM: String) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try DirectoryKeyStore.write(Data(keyPEM.utf8), to: directory.appendingPathComponent("\(name).key.pem"), mode: 0o600)
        try DirectoryKeyStore.write(Data(certificatePEM.utf8), to: directory.appendingPathComponent("\(name).crt.pem"), mode: 0o644)
        return (certificatePEM, keyPEM)
    }
}

/// The keys the service manages itself, for platforms whose profiles carry no signing material (Lambda, Notation):
/// a P-384 root CA and a P-384 signer whose certificate is renewed when it has less than a day left, as AWS's
/// short-lived Notation leaves are. Kept in a `ManagedKeyStorage`.
public actor ManagedKeys {
    private let storage: any ManagedKeyStorage
    private var cached: (key: SigningKey, chain: [[UInt8]], notAfter: Date)?

    public init(storage: any ManagedKeyStorage) {
        self.storage = storage
    }

    /// Keys in `<data>/managed/`.
    public init(directory: URL) {
        self.init(storage: DirectoryManagedKeyStorage(directory: directory))
    }

    private static func parse(_ pair: (certificatePEM: String, keyPEM: String)?) -> (Certificate, SigningKey, String)? {
        guard let pair, let certificate = try? CertificateBundle.parseCertificates(Array(pair.certificatePEM.utf8), what: "managed certificate").first,
              let key = try? SigningKey(encoded: Array(pair.keyPEM.utf8)) else { return nil }
        return (certificate, key, pair.certificatePEM)
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// The signer key and its chain (leaf first, DER) for a Notation envelope signed at `now`.
    public func notationMaterial(now: Date) async throws -> (key: SigningKey, chain: [[UInt8]]) {
        if let cached, cached.notAfter > now.addingTimeInterval(86_400) { return (cached.key, cached.chain) }
        var root = Self.parse(try await storage.load("root"))
        if root == nil {
            let key = try SigningKey.generate(.ecP384)
            let issued = try CertificateFactory.certificateAuthority(commonName: "otarig Signer Code Signing Root CA G1", organization: "otarig",
                                                                     key: key, notBefore: now.addingTimeInterval(-60), days: 3650, signatureHash: .sha384)
            root = Self.parse(try await storage.store("root", certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM, replacing: nil))
        }
        guard let (rootCertificate, rootKey, _) = root else { throw StoreError("the managed root CA cannot be made") }
        let stored = Self.parse(try await storage.load("signer"))
        var leaf = stored
        if let current = leaf, current.0.notValidAfter <= now.addingTimeInterval(86_400) || current.0.issuer != rootCertificate.subject { leaf = nil }
        if leaf == nil {
            let key = try SigningKey.generate(.ecP384)
            let issued = try CertificateFactory.codeSigningCertificate(commonName: "otarig Signer", organization: "otarig", key: key,
                                                                       notBefore: now.addingTimeInterval(-60), days: 3,
                                                                       issuer: (rootCertificate, rootKey), signatureHash: .sha384)
            leaf = Self.parse(try await storage.store("signer", certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM, replacing: stored?.2))
        }
        guard let (leafCertificate, leafKey, _) = leaf else { throw StoreError("the managed signer cannot be made") }
        let chain = [try Self.der(leafCertificate), try Self.der(rootCertificate)]
        cached = (leafKey, chain, leafCertificate.notValidAfter)
        return (leafKey, chain)
    }
}
