import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignerAPI
import SignerService
import SigV4

extension HTTPField.Name {
    static let amznErrorType = HTTPField.Name("x-amzn-ErrorType")!  // invariant: a valid token literal
    static let amznRequestId = HTTPField.Name("x-amzn-RequestId")!  // invariant: a valid token literal
    static let amzRequestId = HTTPField.Name("x-amz-request-id")!  // invariant: a valid token literal
    static let amzVersionId = HTTPField.Name("x-amz-version-id")!  // invariant: a valid token literal
    static let amzDeleteMarker = HTTPField.Name("x-amz-delete-marker")!  // invariant: a valid token literal
    static let amzTarget = HTTPField.Name("x-amz-target")!  // invariant: a valid token literal
}

/// The one table from `SignerError.Code` to HTTP status (botocore's `service-2.json` `error.httpStatusCode`).
enum SignerErrorMapping {
    static func status(_ code: SignerError.Code) -> HTTPResponse.Status {
        switch code {
        case .validation, .badRequest: .badRequest
        case .resourceNotFound, .notFound: .notFound
        case .accessDenied: .forbidden
        case .serviceLimitExceeded: .init(code: 402, reasonPhrase: "Payment Required")
        case .conflict: .conflict
        case .tooManyRequests, .throttling: .tooManyRequests
        case .internalServiceError: .internalServerError
        }
    }

    /// `x-amzn-ErrorType: <Shape>` and `{"message": …, "code": <sub-code>}`: what botocore turns into the modelled
    /// exception class.
    static func response(_ error: SignerError) -> Response {
        var body: [String: String] = ["message": error.message]
        if let subCode = error.subCode { body["code"] = subCode }
        return errorResponse(status: status(error.code), type: error.code.rawValue, body: body)
    }

    static func errorResponse(status: HTTPResponse.Status, type: String, body: [String: String]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.amznErrorType] = type
        let data = (try? JSONWire.encoder.encode(body)) ?? Data()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Authentication failures as the JSON protocols name them.
    static func authResponse(_ failure: SigV4Verifier.Failure) -> Response {
        let type: String = switch failure.kind {
        case .missing: "MissingAuthenticationTokenException"
        case .unknownKey: "UnrecognizedClientException"
        case .malformed, .badSignature, .skewed, .wrongRegion: "InvalidSignatureException"
        }
        return errorResponse(status: .forbidden, type: type, body: ["message": failure.message, "__type": type])
    }
}

/// S3's XML errors: `<Error><Code>…</Code><Message>…</Message></Error>`.
enum S3ErrorMapping {
    /// The one table from `S3Error.Code` to HTTP status (Amazon S3 API reference, "List of error codes").
    static func status(_ code: S3Error.Code) -> HTTPResponse.Status {
        switch code {
        case .noSuchBucket, .noSuchKey, .noSuchVersion: .notFound
        case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty: .conflict
        case .accessDenied, .signatureDoesNotMatch, .invalidAccessKeyId, .requestTimeTooSkewed, .authorizationHeaderMalformed, .missingSecurityHeader: .forbidden
        case .methodNotAllowed: .methodNotAllowed
        case .notImplemented: .notImplemented
        case .invalidRange: .rangeNotSatisfiable
        case .entityTooLarge, .badDigest, .invalidBucketName, .keyTooLongError, .malformedXML: .badRequest
        case .internalError: .internalServerError
        }
    }

    static func response(_ error: S3Error, requestId: String, head: Bool = false) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        if let marker = error.deleteMarkerVersionId {
            // Amazon S3 API reference, GetObject/HeadObject: an answer about a delete marker says so.
            headers[.amzDeleteMarker] = "true"
            headers[.amzVersionId] = marker
        }
        let status = status(error.code)
        guard !head else { return Response(status: status, headers: headers) }
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(error.code.rawValue)</Code><Message>\(XML.escape(error.message))</Message><RequestId>\(requestId)</RequestId></Error>"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: xml)))
    }

    static func authError(_ failure: SigV4Verifier.Failure) -> S3Error {
        switch failure.kind {
        case .missing: S3Error(.accessDenied, failure.message)
        case .unknownKey: S3Error(.invalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records. \(failure.message)")
        case .badSignature: S3Error(.signatureDoesNotMatch, failure.message)
        case .skewed: S3Error(.requestTimeTooSkewed, "The difference between the request time and the current time is too large. \(failure.message)")
        case .malformed, .wrongRegion: S3Error(.authorizationHeaderMalformed, failure.message)
        }
    }
}

/// ACM (JSON 1.1) errors: `__type` in the body and the header.
enum ACMErrorMapping {
    /// The one table from `ACMError.Code` to HTTP status: every modelled ACM exception is a 400, a failure of the
    /// server a 500.
    static func status(_ code: ACMError.Code) -> HTTPResponse.Status {
        switch code {
        case .internalFailure: .internalServerError
        case .invalidArnException, .resourceInUseException, .resourceNotFoundException, .serializationException, .unknownOperationException,
             .validationException: .badRequest
        }
    }

    static func response(_ error: ACMError) -> Response {
        SignerErrorMapping.errorResponse(status: status(error.code), type: error.code.rawValue,
                                         body: ["__type": error.code.rawValue, "message": error.message])
    }
}

enum XML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if scalar.value < 0x20, scalar != "\n", scalar != "\t", scalar != "\r" {
                    out += "&#\(scalar.value);"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The text of the first `<name>…</name>` element, for the small request documents S3 clients send.
    static func element(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
