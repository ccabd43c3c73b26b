import ServerAddress

/// A server URL in canonical form, the name under which its credentials are stored.
///
/// The algorithm is `CanonicalURL`'s, specified in SECURITY.md: surrounding whitespace trimmed,
/// scheme and host lowercased, the default port dropped, percent-encoding normalized, dot segments
/// and trailing slashes removed, an empty query and the fragment dropped. So
/// `https://MCP.example.com:443/mcp/` and `https://mcp.example.com/mcp` are the same server.
/// Only http and https are accepted, and http only for loopback addresses.
///
/// With an `account`, it names one of several identities at the same server (`login --account
/// work`): the same URL, its own record. The default account (nil) is the record every vault
/// held before accounts existed.
public struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    public let canonical: String
    public let host: String
    /// The named account, or nil for the default one.
    public let account: String?

    /// The URL, and the account when it is not the default one: `https://x/mcp (account work)`.
    public var description: String { account.map { "\(canonical) (account \($0))" } ?? canonical }

    /// The name of the record in the vault: the canonical URL, and for a named account
    /// `URL#account=NAME` (a canonical URL never has a fragment, so no URL can take it).
    public var recordName: String { account.map { "\(canonical)#account=\($0)" } ?? canonical }

    /// How a command line names it: `URL`, or `URL --account NAME`.
    public var commandReference: String { account.map { "\(canonical) --account \($0)" } ?? canonical }

    /// The same server with another account (nil: the default one).
    public func with(account: String?) -> ServerURL { ServerURL(canonical: canonical, host: host, account: account) }

    private init(canonical: String, host: String, account: String?) {
        self.canonical = canonical
        self.host = host
        self.account = account
    }

    /// An account name as `--account` takes it: letters, digits, '.', '_', '-', at most 64.
    /// "default" is the default account (nil).
    public static func account(_ text: String?) throws(CredentialsError) -> String? {
        guard let text, text != "default" else { return nil }
        guard ServerReference.isValidName(text) else {
            throw .invalidAccount(text)
        }
        return text
    }

    /// Scheme, host and port: `https://mcp.example.com`.
    public var origin: String {
        // Canonical URLs are http or https: the authority ends at the first slash after "//".
        let parts = canonical.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        return parts.prefix(3).joined(separator: "/")
    }

    public init(_ text: String, account: String? = nil) throws(CredentialsError) {
        self.account = try Self.account(account)
        do {
            let url = try CanonicalURL(text)
            canonical = url.text
            host = url.host
        } catch {
            throw .invalidServerURL(Self.displayable(text, refusal: error), reason: error.reason)
        }
    }

    /// The text as it may be shown: control characters escaped, and no password when the refusal
    /// is about user information.
    static func displayable(_ text: String, refusal: CanonicalURL.Refusal) -> String {
        var shown = text
        if refusal == .userInfo, let separator = shown.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).first,
           let at = separator.firstIndex(of: "@") {
            shown.replaceSubrange(separator.startIndex...at, with: "")
            shown += " (credentials removed)"
        }
        return String(shown.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined())
    }
}
