/// Where the proxy gets its access tokens: the vault, through the same refresh as `token`.
public protocol TokenSource: Sendable {
    /// A token valid for the configured time, refreshed first when needed. `rejected` is a token
    /// the server has just refused (401): the source reads the record again and refreshes unless
    /// another process already replaced that token.
    func token(rejected: String?) async throws -> String

    /// A token that holds the scopes a 403 `insufficient_scope` challenge names, after a step-up
    /// authorization when one is possible here; otherwise a refusal naming the command to run.
    func stepUp(challenge: String) async throws -> String
}

/// Why the proxy cannot forward a request: the message tells the user what to run.
public struct ProxyRefusal: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
