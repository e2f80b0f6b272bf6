/// An action a profile permission can grant (`AddProfilePermission`'s `action`), as the API spells it.
public enum PermissionAction: String, Codable, Sendable, CaseIterable {
    /// Allows StartSigningJob on the profile.
    case startSigningJob = "signer:StartSigningJob"
    /// Allows SignPayload on the profile.
    case signPayload = "signer:SignPayload"
    /// Allows GetSigningProfile on the profile.
    case getSigningProfile = "signer:GetSigningProfile"
    /// Allows RevokeSignature on the profile.
    case revokeSignature = "signer:RevokeSignature"
}

/// What the service does differently per platform, kept next to the platform in `Resources/platforms.json` (its
/// `rules` member, which is ours and never sent: `SigningPlatform` has no such member). A new platform is a catalog
/// entry, not a `platformId ==` in the service.
public struct PlatformRules: Codable, Sendable, Equatable {
    /// Profiles must name an imported certificate (`signingMaterial.certificateArn`); otherwise the service signs with
    /// keys it manages and refuses signing material.
    public var requiresSigningMaterial: Bool
    /// StartSigningJob accepts profiles of this platform.
    public var allowsStartSigningJob: Bool
    /// SignPayload accepts profiles of this platform.
    public var allowsSignPayload: Bool
    /// Signatures carry an expiry: the profile's signature validity period from the signing time.
    public var setsSignatureExpiry: Bool
    /// Permission actions AddProfilePermission refuses for profiles of this platform.
    public var excludedPermissionActions: [PermissionAction]
}
