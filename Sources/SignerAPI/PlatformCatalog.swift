import Foundation

/// The signing-platform catalog, exactly as AWS Signer returns it from `ListSigningPlatforms`.
///
/// The data is `Resources/platforms.json`, embedded at build time; its provenance is in `Resources/README.md`.
public enum PlatformCatalog {
    private struct Document: Decodable { var platforms: [SigningPlatform] }

    /// Every platform, in the order AWS lists them.
    public static let all: [SigningPlatform] = {
        do {
            return try JSONDecoder().decode(Document.self, from: Data(PackageResources.platforms_json)).platforms
        } catch {
            // invariant: platforms.json is part of the build and decoded by SignerAPITests; a broken file is a
            // programmer mistake, not input.
            fatalError("SignerAPI/Resources/platforms.json does not decode: \(error)")
        }
    }()

    /// The platform with this `platformId`, or nil.
    public static func platform(id: String) -> SigningPlatform? {
        all.first { $0.platformId == id }
    }

    /// The platform ids, for messages that list what is accepted.
    public static var ids: [String] { all.map(\.platformId) }
}
