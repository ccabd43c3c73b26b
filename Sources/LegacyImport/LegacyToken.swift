/// One token found in a legacy plaintext file, as the old tool stored it.
public struct LegacyToken: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    /// Unix seconds.
    public var expiresAt: Int64?
    public var scope: String?
    public var clientID: String?
    public var clientSecret: String?
    /// How the client authenticates at the token endpoint, when the file says.
    public var clientAuthMethod: String?
    /// The server URL when the file or its key says it.
    public var serverURL: String?
}

/// Where a legacy token came from.
public enum LegacyOrigin: Sendable, Equatable, CustomStringConvertible {
    /// One `<hash>.json` file of the per-server directory.
    case perServerFile(path: String, hash: String)
    /// One entry of a file holding several (`mcp-oauth.json`, opencode's `mcp-auth.json`).
    case entry(path: String, key: String)
    /// mcp-remote's `<hash>_tokens.json`, with the files beside it that share its hash.
    case mcpRemote(path: String, hash: String)
    /// One server's entry in an MCP client's own token file (`ClientTokenStore`).
    case clientStore(path: String, key: String)

    public var path: String {
        switch self {
        case .perServerFile(let path, _), .entry(let path, _), .mcpRemote(let path, _), .clientStore(let path, _): path
        }
    }

    /// The name `--assign NAME=URL` uses for it: the hash, or the entry's key.
    public var assignmentName: String {
        switch self {
        case .perServerFile(_, let hash), .mcpRemote(_, let hash): hash
        case .entry(_, let key), .clientStore(_, let key): key
        }
    }

    public var description: String {
        switch self {
        case .perServerFile(let path, _), .mcpRemote(let path, _): path
        case .entry(let path, let key), .clientStore(let path, let key): "\(path) [\(key)]"
        }
    }
}

/// A legacy token, or why it cannot be imported.
public struct LegacyItem: Sendable {
    public let origin: LegacyOrigin
    public let token: Result<LegacyToken, LegacyImportError>
    /// SHA-256 of what was read (the file, or the entry's JSON), to notice a change before removal.
    public var fingerprint: String?
}

/// Why a legacy file or entry was not imported. Sentences for the user; never a token.
public enum LegacyImportError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case empty
    case malformedJSON(String)
    case noAccessToken
    case noTokens
    case hashMismatch(expected: String)
    case noServerURL(name: String, inIndexedDirectory: Bool)
    /// An mcp-remote file whose hash matches no URL in the client configurations or the vault.
    case unmatchedHash(String)
    case invalidServerURL(String)
    case symbolicLinkDirectory(String)

    public var description: String {
        switch self {
        case .unreadable(let reason): reason
        case .empty: "the file is empty"
        case .malformedJSON(let reason): "not valid token JSON (\(reason))"
        case .noAccessToken: "it holds no access token"
        case .noTokens: "it holds no tokens (an unfinished login)"
        case .hashMismatch(let expected):
            "its name does not match its index.json key (the key hashes to \(expected)); it was left alone"
        case .noServerURL(let name, let indexed):
            (indexed ? "no server URL (not in index.json, none inside)" : "no server URL (the key is not a URL, and there is no serverUrl inside)")
                + "; import it with --assign \(name)=SERVER-URL"
        case .unmatchedHash(let hash):
            "its name is the MD5 of a server URL that no client configuration or vault record holds; import it with --assign \(hash)=SERVER-URL"
        case .invalidServerURL(let reason): reason
        case .symbolicLinkDirectory(let path): "\(path) is a symbolic link; mcp-vault does not follow it (migrate the real directory with --from)"
        }
    }

    /// Whether this is a problem with the data (failed) rather than a file left for later (skipped).
    public var isFailure: Bool {
        switch self {
        case .noServerURL, .noTokens, .unmatchedHash: false
        default: true
        }
    }
}
