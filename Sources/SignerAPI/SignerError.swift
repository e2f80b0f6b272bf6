/// The one error type of the Signer API: one `Code` per modelled AWS exception shape.
///
/// `SignerHTTP` maps `code` to an HTTP status and `x-amzn-ErrorType` in one table; the service and the engine only
/// say what went wrong. `subCode` is the optional body `code` member (e.g. `ProfileAlreadyExists`).
public struct SignerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exception shape names of `signer/2017-08-25/service-2.json`.
    public enum Code: String, Sendable, CaseIterable {
        case validation = "ValidationException"
        case resourceNotFound = "ResourceNotFoundException"
        case accessDenied = "AccessDeniedException"
        case serviceLimitExceeded = "ServiceLimitExceededException"
        case conflict = "ConflictException"
        case tooManyRequests = "TooManyRequestsException"
        case throttling = "ThrottlingException"
        case internalServiceError = "InternalServiceErrorException"
        case badRequest = "BadRequestException"
        case notFound = "NotFoundException"
    }

    public var code: Code
    public var message: String
    public var subCode: String?

    public init(_ code: Code, _ message: String, subCode: String? = nil) {
        self.code = code
        self.message = message
        self.subCode = subCode
    }

    public static func validation(_ message: String, subCode: String? = nil) -> SignerError {
        SignerError(.validation, message, subCode: subCode)
    }

    public static func notFound(_ message: String) -> SignerError {
        SignerError(.resourceNotFound, message)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
