/// Where the proxy gets its access tokens: the vault, through the same refresh as `token`.
public protocol TokenSource: Sendable {
    /// A token valid for the configured time, refreshed first when needed. `rejected` is a token
    /// the server has just refused (401): the source reads the record again and refreshes unless
    /// another process already replaced that token.
    func token(rejected: String?) async throws -> String

    /// A token that holds the scopes a 403 `insufficient_scope` challenge names, after a step-up
    /// authorization when one is possible here; otherwise a refusal naming the command to run.
    func stepUp(challenge: String) async throws -> String

    /// For a token bound to a DPoP key (RFC 9449): the `DPoP` header's proof for one request (a
    /// fresh `jti`, the server's latest nonce, `ath` of `token`); nil for a bearer token.
    func dpopProof(method: String, url: String, token: String) -> String?

    /// The MCP server asked for its nonce in the proofs (`DPoP-Nonce`).
    func useNonce(_ nonce: String)
}

extension TokenSource {
    public func dpopProof(method: String, url: String, token: String) -> String? { nil }
    public func useNonce(_ nonce: String) {}
}

/// Why the proxy cannot forward a request: the message tells the user what to run.
public struct ProxyRefusal: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
