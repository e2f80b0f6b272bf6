import Foundation

/// The signing-platform catalog, exactly as AWS Signer returns it from `ListSigningPlatforms`.
///
/// The data is `Resources/platforms.json`, embedded at build time; its provenance is in `Resources/README.md`.
public enum PlatformCatalog {
    private struct Document: Decodable { var platforms: [Entry] }

    /// One catalog entry: the API shape, and our rules from the same JSON object.
    private struct Entry: Decodable {
        var platform: SigningPlatform
        var rules: PlatformRules
        private enum CodingKeys: String, CodingKey { case rules }

        init(from decoder: any Decoder) throws {
            platform = try SigningPlatform(from: decoder)
            rules = try decoder.container(keyedBy: CodingKeys.self).decode(PlatformRules.self, forKey: .rules)
        }
    }

    private static let entries: [Entry] = {
        do {
            return try JSONDecoder().decode(Document.self, from: Data(PackageResources.platforms_json)).platforms
        } catch {
            // invariant: platforms.json is part of the build and decoded by SignerAPITests; a broken file is a
            // programmer mistake, not input.
            fatalError("SignerAPI/Resources/platforms.json does not decode: \(error)")
        }
    }()

    /// Every platform, in the order AWS lists them.
    public static let all: [SigningPlatform] = entries.map(\.platform)

    /// How the service treats this platform's profiles, or nil for an unknown `platformId`.
    public static func rules(platformId: String) -> PlatformRules? {
        entries.first { $0.platform.platformId == platformId }?.rules
    }

    /// The platform with this `platformId`, or nil.
    public static func platform(id: String) -> SigningPlatform? {
        all.first { $0.platformId == id }
    }

    /// The platform ids, for messages that list what is accepted.
    public static var ids: [String] { all.map(\.platformId) }
}
