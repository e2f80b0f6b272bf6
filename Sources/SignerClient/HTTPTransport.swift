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

/// Carries one exchange to a server: a socket (`SocketTransport`) in the tool, the responder itself in tests.
public protocol HTTPTransport: Sendable {
    /// Sends the request to `host`:`port` and returns the whole answer; a transport failure throws.
    func send(_ request: HTTPExchange.Request, host: String, port: Int) async throws -> HTTPExchange.Response
}
