import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1
import ServerAddress

/// HTTP for the OAuth engine: https only (plain http for loopback hosts), one deadline for each
/// whole exchange (connecting, sending, and reading every byte of the answer), no redirects
/// followed, response bodies capped, JSON content type checked.
public final class HTTPTransport: Sendable {
    public static let responseLimit = 1 << 20
    /// The longest header value mcp-vault sends (an access token as `Authorization: Bearer …`):
    /// servers refuse far shorter ones, and larger ones crash HTTP libraries.
    public static let headerValueLimit = 16 * 1024
    private let client: HTTPClient
    private let timeoutSeconds: Int64

    /// `timeoutSeconds` bounds each exchange from the first connection attempt to the last byte.
    public init(timeoutSeconds: Int64 = 20) {
        self.timeoutSeconds = max(1, timeoutSeconds)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(min(timeoutSeconds, 10)), read: .seconds(timeoutSeconds)))
        // A refused connection is an answer: fail at once instead of retrying until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: Data

        public func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// Refuses anything but https, except for loopback hosts.
    public static func checkSecure(_ text: String) throws(OAuthError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw .invalidURL(text)
        }
        if scheme == "https" { return url }
        if scheme == "http" && isLoopback(host) { return url }
        throw .insecureURL(text)
    }

    public static func isLoopback(_ host: String) -> Bool {
        LoopbackHost.isLoopback(host)
    }

    public func get(_ url: String, headers: [(String, String)] = []) async throws(OAuthError) -> Response {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    public func postForm(_ url: String, fields: [(String, String)], headers: [(String, String)] = []) async throws(OAuthError) -> Response {
        let body = fields.map { FormURLEncoding.escape($0.0) + "=" + FormURLEncoding.escape($0.1) }.joined(separator: "&")
        return try await send(url, method: .POST, headers: headers + [("Content-Type", "application/x-www-form-urlencoded")],
                              body: Data(body.utf8))
    }

    public func postJSON(_ url: String, body: Data, headers: [(String, String)] = []) async throws(OAuthError) -> Response {
        try await send(url, method: .POST, headers: headers + [("Content-Type", "application/json")], body: body)
    }

    private func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: Data?) async throws(OAuthError) -> Response {
        _ = try Self.checkSecure(url)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "mcp-vault")
        for (name, value) in headers {
            guard value.utf8.count <= Self.headerValueLimit else { throw .headerTooLarge(name: name, limit: Self.headerValueLimit) }
            request.headers.replaceOrAdd(name: name, value: value)
        }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let client = self.client
        let prepared = request
        do {
            return try await Self.withDeadline(seconds: timeoutSeconds) {
                let response = try await client.execute(prepared, timeout: .seconds(self.timeoutSeconds))
                // A body announced as too large is refused before a byte of it is read.
                if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > Self.responseLimit {
                    throw OAuthError.responseTooLarge(url: url, limit: Self.responseLimit)
                }
                let bytes: ByteBuffer
                do {
                    bytes = try await response.body.collect(upTo: Self.responseLimit)
                } catch is NIOTooManyBytesError {
                    throw OAuthError.responseTooLarge(url: url, limit: Self.responseLimit)
                }
                return Response(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
            }
        } catch let error as OAuthError {
            throw error
        } catch is DeadlineExceeded {
            throw .timeout(url: url, seconds: timeoutSeconds)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timeout(url: url, seconds: timeoutSeconds)
        } catch {
            throw .network(url: url, reason: NetworkFailure.reason(error))
        }
    }

    private struct DeadlineExceeded: Error {}

    /// Runs `body`, cancelling it when `seconds` pass first: a server that drips its answer a
    /// byte at a time cannot hold anyone (or the record lock) for longer.
    private static func withDeadline<T: Sendable>(seconds: Int64, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
            return value
        }
    }
}

extension HTTPTransport.Response {
    /// Decodes a JSON body after checking status and content type; OAuth error bodies become
    /// `OAuthError.server`.
    public func decode<T: Decodable>(_ type: T.Type, from url: String, acceptedStatuses: Set<Int> = [200]) throws(OAuthError) -> T {
        guard acceptedStatuses.contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorResponse.self, from: body) {
                throw .server(url: url, error: error.error, description: error.errorDescription)
            }
            throw .unexpectedStatus(url: url, status: status)
        }
        let contentType = header("Content-Type") ?? ""
        guard contentType.lowercased().hasPrefix("application/json") || contentType.lowercased().contains("+json") else {
            throw .unexpectedContentType(url: url, contentType: contentType)
        }
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw .malformedResponse(url: url, reason: "the JSON does not have the expected fields")
        }
    }
}

enum FormURLEncoding {
    /// Every byte but RFC 3986's unreserved characters (ALPHA / DIGIT / "-" / "." / "_" / "~") as %XX.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                escaped += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return escaped
    }

    static func decode(_ query: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[unescape(parts[0])] = parts.count > 1 ? unescape(parts[1]) : ""
        }
        return fields
    }

    /// `+` as a space and %XX as its byte; text that is not valid percent-encoded UTF-8 is kept as it came.
    static func unescape(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        while index < text.utf8.endIndex {
            let byte = text.utf8[index]
            if byte == UInt8(ascii: "%") {
                let digits = text.utf8[text.utf8.index(after: index)...].prefix(2)
                guard digits.count == 2, let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) else { return String(text) }
                bytes.append(value)
                index = text.utf8.index(index, offsetBy: 3)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = text.utf8.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? String(text)
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension Duration {
    /// Milliseconds with two decimals, for logs ("12.34").
    public var milliseconds: String {
        let (seconds, attoseconds) = components
        let hundredths = seconds * 100_000 + attoseconds / 10_000_000_000_000
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
