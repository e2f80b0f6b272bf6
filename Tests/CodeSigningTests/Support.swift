import Foundation
import SignerAPI
@testable import CodeSigning

/// Shared helpers for the CodeSigning tests.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/freertos")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func platform(_ id: String) -> SigningPlatform {
        guard let platform = PlatformCatalog.platform(id: id) else { fatalError("no platform \(id) in the catalog") }
        return platform
    }

    /// A deterministic, firmware-looking payload.
    static func payload(count: Int = 4099, seed: UInt8 = 7) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    static let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21

    static func certificate(for key: SigningKey, days: Int = 365, notBefore: Date = now) throws -> CertificateFactory.Issued {
        try CertificateFactory.codeSigningCertificate(commonName: "test signer", key: key, notBefore: notBefore, days: days)
    }
}
