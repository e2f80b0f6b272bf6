/// The one error type of `CodeSigning`: what was wrong with a key, certificate, payload or signing request.
///
/// `message` is one line that names the problem and, where there is one, the fix. The service turns these into a
/// `SignerError` (`ValidationException`); the CLI prints them and exits with status 2.
public struct CodeSigningError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let malformedKey = Code(rawValue: "MalformedKey")
        public static let unsupportedKey = Code(rawValue: "UnsupportedKey")
        public static let malformedCertificate = Code(rawValue: "MalformedCertificate")
        public static let keyMismatch = Code(rawValue: "KeyMismatch")
        public static let certificateExpired = Code(rawValue: "CertificateExpired")
        public static let certificateNotYetValid = Code(rawValue: "CertificateNotYetValid")
        public static let chainMismatch = Code(rawValue: "ChainMismatch")
        public static let unknownPlatform = Code(rawValue: "UnknownPlatform")
        public static let algorithmNotAllowed = Code(rawValue: "AlgorithmNotAllowed")
        public static let formatNotAllowed = Code(rawValue: "FormatNotAllowed")
        public static let payloadTooLarge = Code(rawValue: "PayloadTooLarge")
        public static let emptyPayload = Code(rawValue: "EmptyPayload")
        public static let missingPayloadLocation = Code(rawValue: "MissingPayloadLocation")
        public static let malformedSignedObject = Code(rawValue: "MalformedSignedObject")
        public static let invalidArgument = Code(rawValue: "InvalidArgument")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
