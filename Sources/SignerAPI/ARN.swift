/// An Amazon Resource Name, `arn:<partition>:<service>:<region>:<account>:<resource>`, parsed and formatted in one
/// place (AWS: "Identify AWS resources with Amazon Resource Names", docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
/// Signer's own resources begin with `/` (`arn:aws:signer:us-east-1:123456789012:/signing-profiles/name`).
public struct ARN: Sendable, Hashable, CustomStringConvertible {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    public var partition: String
    /// `signer`, `iam`, `acm`, …
    public var service: String
    /// The region; empty for global services such as IAM.
    public var region: String
    /// The 12-digit account id (not checked here).
    public var account: String
    /// Everything after the fifth colon, which may itself hold colons.
    public var resource: String

    /// An ARN from its parts.
    public init(partition: String = "aws", service: String, region: String, account: String, resource: String) {
        self.partition = partition
        self.service = service
        self.region = region
        self.account = account
        self.resource = resource
    }

    /// Reads `arn:partition:service:region:account:resource`; nil unless it has the six parts, begins with `arn`, and
    /// names a partition and a service.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        self.init(partition: String(parts[1]), service: String(parts[2]), region: String(parts[3]), account: String(parts[4]),
                  resource: String(parts[5]))
    }

    /// The ARN as text.
    public var description: String { "arn:\(partition):\(service):\(region):\(account):\(resource)" }

    /// The `/`-separated parts of the resource (`/signing-jobs/x` gives `["", "signing-jobs", "x"]`).
    public var resourcePath: [Substring] { resource.split(separator: "/", omittingEmptySubsequences: false) }
}

// MARK: - Signer's resources

extension ARN {
    /// What a Signer ARN names.
    public enum SignerResource: Sendable, Hashable {
        /// `/signing-profiles/<name>`
        case signingProfile(name: String)
        /// `/signing-profiles/<name>/<version>`
        case signingProfileVersion(name: String, version: String)
        /// `/signing-jobs/<jobId>`
        case signingJob(jobId: String)

        var path: String {
            switch self {
            case .signingProfile(let name): "/signing-profiles/\(name)"
            case .signingProfileVersion(let name, let version): "/signing-profiles/\(name)/\(version)"
            case .signingJob(let jobId): "/signing-jobs/\(jobId)"
            }
        }
    }

    /// A Signer ARN (note the `:/` before the resource).
    public static func signer(_ resource: SignerResource, region: String, account: String, partition: String = "aws") -> ARN {
        ARN(partition: partition, service: "signer", region: region, account: account, resource: resource.path)
    }

    /// The Signer resource this ARN names, or nil when it is not a Signer ARN of a known resource form.
    public var signerResource: SignerResource? {
        guard service == "signer" else { return nil }
        let path = resourcePath
        guard path.count >= 3, path[0].isEmpty, path.dropFirst().allSatisfy({ !$0.isEmpty }) else { return nil }
        switch (path[1], path.count) {
        case ("signing-profiles", 3): return .signingProfile(name: String(path[2]))
        case ("signing-profiles", 4): return .signingProfileVersion(name: String(path[2]), version: String(path[3]))
        case ("signing-jobs", 3): return .signingJob(jobId: String(path[2]))
        default: return nil
        }
    }

    /// The role name when this is an IAM role ARN (`arn:aws:iam::<account>:role/<name>`), else nil.
    public var iamRoleName: String? {
        let path = resourcePath
        guard service == "iam", region.isEmpty, path.count == 2, path[0] == "role", !path[1].isEmpty else { return nil }
        return String(path[1])
    }
}
