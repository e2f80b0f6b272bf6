import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1

/// The tool's transport: async-http-client (connection pooling, TLS for https endpoints such as AWS's own,
/// timeouts). Measured before choosing it: linking it added under 1 ms to otarig's start-up (NIO is linked for
/// `otarig serve` anyway) and about 7 MB to the release binary.
public struct AsyncHTTPTransport: HTTPTransport {
    /// How long one exchange may take, connecting included.
    public var timeoutSeconds: Int64
    /// Answers larger than this are refused rather than held in memory (a signed object of a 32 MiB payload fits).
    public var maximumBodySize: Int

    /// A transport with the given timeout and body limit.
    public init(timeoutSeconds: Int64 = 30, maximumBodySize: Int = 64 << 20) {
        self.timeoutSeconds = timeoutSeconds
        self.maximumBodySize = maximumBodySize
    }

    /// One client for the process, never shut down (as `HTTPClient.shared` is), configured for a command-line
    /// tool: a refused or unreachable service fails the call at once and says so, instead of being retried with
    /// backoff until the request's deadline (the library's default, meant for long-running servers).
    static let connectTimeoutSeconds: Int64 = 10

    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(connectTimeoutSeconds)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Why an exchange failed, in plain words ("connection refused", "no answer within 30 s").
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// NIO's and the client's errors as a person reads them: the system's own words for a socket error.
    func words(for error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "no connection within \(Self.connectTimeoutSeconds) s"
            case .deadlineExceeded: return "no answer within \(timeoutSeconds) s"
            case .remoteConnectionClosed: return "the service closed the connection"
            default: return "\(client)"
            }
        }
        return "\(error)"
    }

    /// Sends the request and collects the whole answer.
    public func send(_ request: HTTPExchange.Request, to origin: HTTPOrigin) async throws -> HTTPExchange.Response {
        var outgoing = HTTPClientRequest(url: origin.url(target: request.target))
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await Self.client.execute(outgoing, timeout: .seconds(timeoutSeconds))
            body = try await response.body.collect(upTo: maximumBodySize)
        } catch {
            throw Failure(description: words(for: error))
        }
        return HTTPExchange.Response(status: Int(response.status.code),
                                     headers: response.headers.map { (name: $0.name.lowercased(), value: $0.value) },
                                     body: Array(buffer: body))
    }
}
