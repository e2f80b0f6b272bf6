/// One access key the server accepts, and who it belongs to.
public struct Credential: Sendable, Equatable {
    public var profile: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var account: String
    public var principal: String

    public init(profile: String, accessKeyId: String, secretAccessKey: String, account: String, principal: String) {
        self.profile = profile
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.account = account
        self.principal = principal
    }
}

/// A credentials file in the `~/.aws/credentials` INI format, whose sections also name the key's account and
/// principal, so the same file serves `otarig serve --credentials` and the aws CLI (`AWS_SHARED_CREDENTIALS_FILE`;
/// botocore ignores the extra keys):
///
///     [lab]
///     aws_access_key_id = AKIA…
///     aws_secret_access_key = …
///     account_id = 123456789012
///     principal_arn = arn:aws:iam::123456789012:user/lab
public enum CredentialsFile {
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// Parses the text; every section must be complete. `account_id` defaults to 123456789012 and `principal_arn`
    /// to `arn:aws:iam::<account>:user/<section>`.
    public static func parse(_ text: String) throws(ParseError) -> [Credential] {
        var sections: [(name: String, line: Int, values: [String: String])] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ParseError(message: "line \(index + 1): a section header looks like [name]")
                }
                sections.append((String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces), index + 1, [:]))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(message: "line \(index + 1): expected 'key = value'")
            }
            guard !sections.isEmpty else {
                throw ParseError(message: "line \(index + 1): 'key = value' before any [section]")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[sections.count - 1].values[key] = value
        }
        var credentials: [Credential] = []
        for section in sections {
            guard let id = section.values["aws_access_key_id"], !id.isEmpty else {
                throw ParseError(message: "section [\(section.name)] (line \(section.line)) has no aws_access_key_id")
            }
            guard let secret = section.values["aws_secret_access_key"], !secret.isEmpty else {
                throw ParseError(message: "section [\(section.name)] (line \(section.line)) has no aws_secret_access_key")
            }
            let account = section.values["account_id"] ?? section.values["aws_account_id"] ?? "123456789012"
            guard account.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw ParseError(message: "section [\(section.name)]: account_id must be 12 digits (got '\(account)')")
            }
            let principal = section.values["principal_arn"] ?? "arn:aws:iam::\(account):user/\(section.name)"
            guard principal.hasPrefix("arn:aws:iam::\(account):") else {
                throw ParseError(message: "section [\(section.name)]: principal_arn must be an IAM ARN of account \(account) (got '\(principal)')")
            }
            if credentials.contains(where: { $0.accessKeyId == id }) {
                throw ParseError(message: "section [\(section.name)]: access key \(id) appears twice")
            }
            credentials.append(Credential(profile: section.name, accessKeyId: id, secretAccessKey: secret, account: account, principal: principal))
        }
        guard !credentials.isEmpty else { throw ParseError(message: "the credentials file has no sections") }
        return credentials
    }

    /// A file for one fresh key.
    public static func render(_ credential: Credential) -> String {
        """
        # Written by otarig serve. Point the aws CLI or boto3 at it with AWS_SHARED_CREDENTIALS_FILE=<this file>
        # and AWS_PROFILE=\(credential.profile). account_id and principal_arn say who the key is; botocore ignores them.
        [\(credential.profile)]
        aws_access_key_id = \(credential.accessKeyId)
        aws_secret_access_key = \(credential.secretAccessKey)
        account_id = \(credential.account)
        principal_arn = \(credential.principal)

        """
    }

    /// A fresh random key pair in AWS's shapes (20-character `AKIA…` id, 40-character secret).
    public static func generate(profile: String = "default", account: String = "123456789012", principal: String? = nil) -> Credential {
        let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var random = SystemRandomNumberGenerator()
        let id = "AKIA" + String((0..<16).map { _ in upper[Int.random(in: 0..<upper.count, using: &random)] })
        let secret = String((0..<40).map { _ in secretAlphabet[Int.random(in: 0..<secretAlphabet.count, using: &random)] })
        return Credential(profile: profile, accessKeyId: id, secretAccessKey: secret, account: account,
                          principal: principal ?? "arn:aws:iam::\(account):user/otarig")
    }
}

import Foundation
