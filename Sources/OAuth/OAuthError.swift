/// Every failure of the OAuth engine, as a sentence for the user. Never contains a token,
/// a code, a verifier or a client secret; server-provided text is quoted as the server's.
public enum OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    case insecureURL(String)
    case localEndpoint(String)
    case invalidURL(String)
    case network(url: String, reason: String)
    case timeout(url: String, seconds: Int64)
    case headerTooLarge(name: String, limit: Int)
    case tokenTooLarge(field: String, limit: Int)
    case responseTooLarge(url: String, limit: Int)
    case unexpectedStatus(url: String, status: Int)
    case unexpectedContentType(url: String, contentType: String)
    case malformedResponse(url: String, reason: String)
    case server(url: String, error: String, description: String?)
    case resourceMismatch(expected: String, found: String)
    case issuerMismatch(expected: String, found: String)
    case noAuthorizationServer(String)
    /// The URL answered the MCP initialize request without asking for authorization.
    case noLoginNeeded(String)
    /// No OAuth metadata at any of the places looked at; `status` is what initialize got.
    case noOAuthMetadata(String, status: Int, lookedAt: [String])
    case pkceUnsupported
    case pkceNotAdvertised
    case noRegistration(String)
    case stateMismatch
    case issMismatch(expected: String, found: String)
    case issMissing
    case authorizationDenied(error: String, description: String?)
    case callbackPortBusy(Int)
    case timedOutWaitingForBrowser(seconds: Int, refused: Int)
    case cancelled
    case insufficientScope(wanted: String?)
    case pasteNeedsAddress
    case deviceCodeExpired
    /// An authorization needs someone at a browser, and nobody is at a terminal.
    case needsSomeone(server: String, scope: String)

    public var description: String {
        switch self {
        case .insecureURL(let url): return "\(url) is not https (plain http is allowed only for loopback hosts)"
        case .invalidURL(let url): return "'\(url)' is not a usable URL"
        case .localEndpoint(let url): return "a remote server's metadata points at \(url), an address on this machine or its link; refused"
        case .network(let url, let reason): return "cannot reach \(url): \(reason)"
        case .timeout(let url, let seconds): return "\(url) did not answer in time (the whole exchange may take \(seconds) s)"
        case .headerTooLarge(let name, let limit): return "the \(name) header would be longer than \(limit) bytes; not sent"
        case .tokenTooLarge(let field, let limit): return "the server sent a \(field) longer than \(limit) bytes; refused"
        case .responseTooLarge(let url, let limit): return "the response from \(url) is larger than \(limit) bytes"
        case .unexpectedStatus(let url, let status): return "\(url) answered HTTP \(status)"
        case .unexpectedContentType(let url, let type): return "\(url) answered with content type '\(type)', not JSON"
        case .malformedResponse(let url, let reason): return "the response from \(url) is malformed: \(reason)"
        case .server(let url, let error, let description):
            return "\(url) refused: \(error)" + (description.map { " (the server says: \($0))" } ?? "")
        case .resourceMismatch(let expected, let found):
            return "the protected-resource metadata is for \(found), not \(expected); no authorization request was made"
        case .issuerMismatch(let expected, let found):
            return "the authorization server metadata names issuer \(found), not \(expected)"
        case .noAuthorizationServer(let url): return "no authorization server metadata was found for \(url)"
        case .noLoginNeeded(let url): return "\(url) answers initialize without authorization: no login needed (MCP clients can use it as it is)"
        case .noOAuthMetadata(let url, let status, let lookedAt):
            let what = status == 401
                ? "\(url) asks for authorization (HTTP 401) but publishes no OAuth metadata"
                : "\(url) answered initialize with HTTP \(status), so it may not be an MCP server, and no OAuth metadata was found"
            return what + " (looked at \(lookedAt.joined(separator: ", ")))"
        case .pkceUnsupported: return "the authorization server does not support PKCE with S256"
        case .pkceNotAdvertised:
            return "the authorization server does not say that it supports PKCE (code_challenge_methods_supported is missing)"
        case .noRegistration(let reason): return "no way to register a client: \(reason)"
        case .stateMismatch: return "the authorization response's state does not match the request (possible CSRF); refused"
        case .issMismatch(let expected, let found): return "the authorization response came from issuer \(found), not \(expected); refused"
        case .issMissing: return "the authorization response lacks the iss parameter the server advertises; refused"
        case .authorizationDenied(let error, let description):
            return "authorization failed: \(error)" + (description.map { " (the server says: \($0))" } ?? "")
        case .callbackPortBusy(let port): return "port \(port) on 127.0.0.1 is in use; choose another with --callback-port"
        case .timedOutWaitingForBrowser(let seconds, let refused):
            return "no authorization response arrived within \(seconds) s" + (refused > 0 ? " (\(refused) that did not belong to this login were refused)" : "")
        case .cancelled: return "cancelled"
        case .pasteNeedsAddress:
            return "paste the whole address the browser ended on (it carries the state that proves the answer is for this login)"
        case .deviceCodeExpired: return "the device code expired before the sign-in was approved"
        case .needsSomeone(let server, _):
            return "authorizing more scope for \(server) needs someone at a browser, and there is no terminal here (the server offers no device flow)"
        case .insufficientScope(let wanted):
            return "the MCP server wants more scope" + (wanted.map { " (\($0))" } ?? "") + " than the authorization server granted"
        }
    }
}
