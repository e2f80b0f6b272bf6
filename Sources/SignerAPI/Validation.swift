/// Input checks for the Signer API, in AWS's words ("1 validation error detected: Value 'x' at 'profileName' failed
/// to satisfy constraint: …"). botocore checks only `required` and `min` client-side; these cover the rest
/// (max lengths, patterns, enums, ranges), so every request is checked here whatever the client.
public enum Validate {
    static func failure(_ value: String, _ field: String, _ constraint: String) -> SignerError {
        let shown = value.count > 64 ? String(value.prefix(64)) + "…" : value
        return .validation("1 validation error detected: Value '\(shown)' at '\(field)' failed to satisfy constraint: \(constraint)")
    }

    /// The value, or a ValidationException naming the missing member.
    public static func required<T>(_ value: T?, _ field: String) throws(SignerError) -> T {
        guard let value else {
            throw .validation("1 validation error detected: Value null at '\(field)' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    public static func length(_ value: String, _ field: String, _ range: ClosedRange<Int>) throws(SignerError) {
        let count = value.count
        if count < range.lowerBound {
            throw failure(value, field, "Member must have length greater than or equal to \(range.lowerBound)")
        }
        if count > range.upperBound {
            throw failure(value, field, "Member must have length less than or equal to \(range.upperBound)")
        }
    }

    private static func allASCII(_ value: String, _ allowed: (UInt8) -> Bool) -> Bool {
        value.utf8.allSatisfy(allowed)
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    /// `ProfileName`: 2..64 of `[a-zA-Z0-9_]` (the model's pattern is only start-anchored; AWS rejects `-` anywhere).
    public static func profileName(_ value: String?, _ field: String = "profileName") throws(SignerError) -> String {
        let value = try required(value, field)
        try length(value, field, 2...64)
        guard allASCII(value, { isAlphanumeric($0) || $0 == UInt8(ascii: "_") }) else {
            throw failure(value, field, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]{2,}")
        }
        return value
    }

    /// `ProfileVersion`: exactly 10 alphanumerics.
    public static func profileVersion(_ value: String?, _ field: String = "profileVersion") throws(SignerError) -> String {
        let value = try required(value, field)
        try length(value, field, 10...10)
        guard allASCII(value, isAlphanumeric) else {
            throw failure(value, field, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9]{10}$")
        }
        return value
    }

    /// `AccountId`: exactly 12 digits.
    public static func accountId(_ value: String, _ field: String) throws(SignerError) {
        try length(value, field, 12...12)
        guard allASCII(value, { $0 >= 0x30 && $0 <= 0x39 }) else {
            throw failure(value, field, "Member must satisfy regular expression pattern: ^[0-9]{12}$")
        }
    }

    /// `Arn`: 20..2048 characters.
    public static func arn(_ value: String?, _ field: String) throws(SignerError) -> String {
        let value = try required(value, field)
        try length(value, field, 20...2048)
        return value
    }

    /// `RevocationReasonString`: 1..500 characters.
    public static func reason(_ value: String?) throws(SignerError) -> String {
        let value = try required(value, "reason")
        try length(value, "reason", 1...500)
        return value
    }

    /// `MaxResults`: 1..25.
    public static func maxResults(_ value: Int?) throws(SignerError) -> Int? {
        guard let value else { return nil }
        guard (1...25).contains(value) else {
            let constraint = value < 1 ? "Member must have value greater than or equal to 1" : "Member must have value less than or equal to 25"
            throw failure(String(value), "maxResults", constraint)
        }
        return value
    }

    /// `TagKey`: 1..128, `^(?!aws:)[a-zA-Z+-=._:/]+$`, where `+-=` is the range U+002B…U+003D (implemented literally).
    public static func tagKey(_ value: String, _ field: String = "tags") throws(SignerError) {
        try length(value, field, 1...128)
        let pattern = "Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"
        guard !value.hasPrefix("aws:") else { throw failure(value, field, pattern) }
        guard allASCII(value, { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x2B && c <= 0x3D) || c == UInt8(ascii: "_")
        }) else { throw failure(value, field, pattern) }
    }

    /// `TagMap`: 1..200 entries; keys as `tagKey`, values at most 256 characters.
    public static func tags(_ value: [String: String]?, _ field: String = "tags") throws(SignerError) -> [String: String] {
        let value = try required(value, field)
        guard (1...200).contains(value.count) else {
            throw .validation("1 validation error detected: Value at '\(field)' failed to satisfy constraint: Member must have between 1 and 200 entries")
        }
        for (key, tagValue) in value {
            try tagKey(key, field)
            try length(tagValue, "\(field).\(key)", 0...256)
        }
        return value
    }

    /// `payload` of SignPayload: 1..4096 bytes.
    public static func payloadSize(_ count: Int) throws(SignerError) {
        guard (1...4096).contains(count) else {
            throw .validation("1 validation error detected: Value at 'payload' failed to satisfy constraint: Member must have length between 1 and 4096")
        }
    }

    /// An enum member, naming the accepted values.
    public static func member<E: RawRepresentable & CaseIterable>(_ raw: String, _ field: String, as type: E.Type) throws(SignerError) -> E where E.RawValue == String {
        guard let value = E(rawValue: raw) else {
            throw failure(raw, field, "Member must satisfy enum value set: [\(E.allCases.map(\.rawValue).joined(separator: ", "))]")
        }
        return value
    }
}
