import CodeSigning
import Foundation
import SwiftASN1
import X509

/// The keys the service manages itself, for platforms whose profiles carry no signing material (Lambda, Notation):
/// a P-384 root CA and a P-384 signer whose certificate is renewed when it has less than a day left, as AWS's
/// short-lived Notation leaves are. Kept in `<data>/managed/` (keys mode 0600).
public final class ManagedKeys: @unchecked Sendable {
    private let directory: URL
    private let lock = NSLock()
    private var cached: (key: SigningKey, chain: [[UInt8]], notAfter: Date)?

    public init(directory: URL) {
        self.directory = directory
    }

    private func load(_ name: String) -> (Certificate, SigningKey)? {
        guard let cert = try? Data(contentsOf: directory.appendingPathComponent("\(name).crt.pem")),
              let key = try? Data(contentsOf: directory.appendingPathComponent("\(name).key.pem")),
              let certificate = try? CertificateBundle.parseCertificates(Array(cert), what: name).first,
              let signingKey = try? SigningKey(encoded: Array(key)) else { return nil }
        return (certificate, signingKey)
    }

    private func save(_ name: String, _ issued: CertificateFactory.Issued) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyURL = directory.appendingPathComponent("\(name).key.pem")
        try DirectoryKeyStore.write(Data(issued.keyPEM.utf8), to: keyURL, mode: 0o600)
        try DirectoryKeyStore.write(Data(issued.certificatePEM.utf8), to: directory.appendingPathComponent("\(name).crt.pem"), mode: 0o644)
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// The signer key and its chain (leaf first, DER) for a Notation envelope signed at `now`.
    public func notationMaterial(now: Date) throws -> (key: SigningKey, chain: [[UInt8]]) {
        lock.lock()
        defer { lock.unlock() }
        if let cached, cached.notAfter > now.addingTimeInterval(86_400) { return (cached.key, cached.chain) }
        var root = load("root")
        if root == nil {
            let key = try SigningKey.generate(.ecP384)
            let issued = try CertificateFactory.certificateAuthority(commonName: "otarig Signer Code Signing Root CA G1", organization: "otarig",
                                                                     key: key, notBefore: now.addingTimeInterval(-60), days: 3650, signatureHash: .sha384)
            try save("root", issued)
            root = (issued.certificate, key)
        }
        guard let (rootCertificate, rootKey) = root else { throw StoreError("the managed root CA cannot be made") }
        var leaf = load("signer")
        if let current = leaf, current.0.notValidAfter <= now.addingTimeInterval(86_400) { leaf = nil }
        if leaf == nil {
            let key = try SigningKey.generate(.ecP384)
            let issued = try CertificateFactory.codeSigningCertificate(commonName: "otarig Signer", organization: "otarig", key: key,
                                                                       notBefore: now.addingTimeInterval(-60), days: 3,
                                                                       issuer: (rootCertificate, rootKey), signatureHash: .sha384)
            try save("signer", issued)
            leaf = (issued.certificate, key)
        }
        guard let (leafCertificate, leafKey) = leaf else { throw StoreError("the managed signer cannot be made") }
        let chain = [try Self.der(leafCertificate), try Self.der(rootCertificate)]
        cached = (leafKey, chain, leafCertificate.notValidAfter)
        return (leafKey, chain)
    }
}
