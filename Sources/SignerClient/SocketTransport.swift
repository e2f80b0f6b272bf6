import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 transport over a TCP socket, for the few signed calls facts capture makes to a signing
/// service on the lab network. Plain http only. It keeps libcurl (FoundationNetworking) and NIO's client stack out
/// of every otarig start; the measurement behind that choice is in the commit that added this target.
public struct SocketTransport: HTTPTransport {
    /// How long a connect, a write or a read may wait.
    public var timeoutSeconds: Int

    /// A transport with the given timeout.
    public init(timeoutSeconds: Int = 30) {
        self.timeoutSeconds = timeoutSeconds
    }

    /// Why an exchange failed: resolving, connecting, sending, reading, or an answer that is not HTTP/1.x.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// Sends the request (asking the server to close the connection) and reads the whole answer.
    public func send(_ request: HTTPExchange.Request, host: String, port: Int) async throws -> HTTPExchange.Response {
        try Self.send(host: host, port: port, method: request.method, target: request.target, headers: request.headers, body: request.body,
                      timeoutSeconds: timeoutSeconds)
    }

    static func send(host: String, port: Int, method: String, target: String, headers: [(name: String, value: String)],
                     body: [UInt8], timeoutSeconds: Int) throws -> HTTPExchange.Response {
        let socket = try connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        defer { close(socket) }
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "content-length: \(body.count)\r\nconnection: close\r\n\r\n"
        try writeAll(socket, Array(head.utf8) + body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: errno == EAGAIN ? "no answer within \(timeoutSeconds) s" : "reading the answer: \(String(cString: strerror(errno)))")
            }
            received.append(contentsOf: buffer[0..<count])
        }
        return try parse(received)
    }

    private static func connect(host: String, port: Int, timeoutSeconds: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            let socket = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            if socket >= 0 {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return socket }
                lastError = errno
                close(socket)
            }
            entry = address.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    private static func writeAll(_ socket: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            // invariant: `bytes` is not empty here (offset < count), so its buffer has a base address.
            let written = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "sending the request: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Status line, headers, and the body by content-length, chunked transfer coding, or to the end.
    static func parse(_ bytes: [UInt8]) throws -> HTTPExchange.Response {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw Failure(description: "the answer is not HTTP (\(bytes.count) bytes, no header end)")
        }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "the answer's status line '\(lines[0].prefix(80))' is not HTTP/1.x")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        var body = Array(bytes[end.upperBound...])
        if header("transfer-encoding")?.lowercased().contains("chunked") == true {
            body = try dechunk(body)
        } else if let length = header("content-length").flatMap(Int.init) {
            guard body.count >= length else { throw Failure(description: "the answer ended after \(body.count) of \(length) body bytes") }
            body = Array(body.prefix(length))
        }
        return HTTPExchange.Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var rest = bytes[...]
        while true {
            guard let lineEnd = rest.firstRange(of: Array("\r\n".utf8)) else { throw Failure(description: "a chunk size line is cut off") }
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure(description: "a chunk size '\(sizeText.prefix(20))' is not hex")
            }
            rest = rest[lineEnd.upperBound...]
            if size == 0 { return out }
            guard rest.count >= size + 2 else { throw Failure(description: "a chunk of \(size) bytes is cut off") }
            out.append(contentsOf: rest.prefix(size))
            rest = rest.dropFirst(size + 2)
        }
    }
}
