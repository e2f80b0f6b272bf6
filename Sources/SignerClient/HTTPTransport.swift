/// One HTTP/1.1 exchange as the client sees it: what is sent (already signed) and what came back.
public struct HTTPExchange: Sendable {
    /// A request to send: the target is the raw path and query as they go on the wire.
    public struct Request: Sendable {
        /// `GET`, `POST`, …
        public var method: String
        /// The raw path and query, percent-encoded (`/signing-jobs?maxResults=25`).
        public var target: String
        /// Header names lower-cased; `host` among them.
        public var headers: [(name: String, value: String)]
        /// The body bytes.
        public var body: [UInt8]

        /// A request from its parts.
        public init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.target = target
            self.headers = headers
            self.body = body
        }
    }

    /// The answer: status, headers (names lower-cased) and the whole body.
    public struct Response: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// Header names lower-cased.
        public var headers: [(name: String, value: String)]
        /// The whole body.
        public var body: [UInt8]

        /// A response from its parts.
        public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }
}

/// Where requests go: scheme, host and port of the service's endpoint.
public struct HTTPOrigin: Equatable, Sendable {
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    public var port: Int

    /// An origin from its parts.
    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The full URL of `target` (a raw path and query) at this origin.
    public func url(target: String) -> String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed):\(port)\(target)"
    }
}

/// Carries one exchange to a server: async-http-client in the tool (`AsyncHTTPTransport`), the responder itself in
/// tests.
public protocol HTTPTransport: Sendable {
    /// Sends the request to `origin` and returns the whole answer; a transport failure throws.
    func send(_ request: HTTPExchange.Request, to origin: HTTPOrigin) async throws -> HTTPExchange.Response
}
