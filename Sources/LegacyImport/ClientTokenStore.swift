import ClientConfig
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// The plaintext files in which MCP clients keep the OAuth tokens of the MCP servers they sign in
/// to themselves, when no keyring is used: each entry is one server's tokens. `migrate` imports
/// them and then removes those entries in place: everything else in the file (Claude Code's own
/// sign-in, say) stays byte for byte.
///
/// - Claude Code: `$CLAUDE_CONFIG_DIR/.credentials.json` or `~/.claude/.credentials.json`, the
///   `mcpOAuth` map (`serverName`, `serverUrl`, `accessToken`, `refreshToken`, `expiresAt` in
///   milliseconds, `scope`, `clientId`, `clientSecret`), beside `claudeAiOauth`.
/// - Codex (`mcp_oauth_credentials_store = file`, or `auto` without a keyring):
///   `$CODEX_HOME/.credentials.json` or `~/.codex/.credentials.json`, a map of
///   `{server_name, server_url, client_id, access_token, refresh_token, expires_at (ms), scopes}`
///   (openai/codex codex-rs/rmcp-client/src/oauth.rs).
/// - Gemini CLI: `$GEMINI_CLI_HOME/.gemini/mcp-oauth-tokens.json` or `~/.gemini/…`, an array of
///   `{serverName, token: {accessToken, refreshToken, expiresAt (ms), tokenType, scope}, clientId,
///   tokenUrl, mcpServerUrl, updatedAt}` (google-gemini/gemini-cli packages/core mcp/oauth-token-storage.ts).
public enum ClientTokenStore: String, Sendable, CaseIterable {
    case claudeCode = "Claude Code"
    case codex = "Codex"
    case gemini = "Gemini CLI"

    /// How to keep the client from signing in and writing a token again.
    public var pointAtTheVault: String {
        switch self {
        case .claudeCode: "`mcp-vault setup claude-code`, so that Claude Code gets its tokens from the vault"
        case .gemini: "`mcp-vault setup gemini`, so that Gemini CLI gets its tokens from the vault"
        case .codex: "`mcp-vault setup codex`, so that Codex gets its tokens from the vault"
        }
    }

    public func path(environment: [String: String]) -> String {
        let home = environment["HOME"] ?? ""
        func directory(_ variable: String, _ fallback: String) -> String {
            environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        }
        switch self {
        case .claudeCode: return directory("CLAUDE_CONFIG_DIR", home + "/.claude") + "/.credentials.json"
        case .codex: return directory("CODEX_HOME", home + "/.codex") + "/.credentials.json"
        case .gemini: return directory("GEMINI_CLI_HOME", home) + "/.gemini/mcp-oauth-tokens.json"
        }
    }

    /// One server's entry: its key (the map's key, or Gemini's `serverName`), what it holds, and
    /// where its value lies in the file.
    struct Entry {
        let key: String
        let token: Result<LegacyToken, LegacyImportError>
        let span: Range<Int>
    }

    /// The entries of the file's bytes. Throws when the file is not the store's shape.
    func entries(_ document: JSONCDocument) throws(LegacyImportError) -> [Entry] {
        switch self {
        case .claudeCode:
            guard document.root.node.members != nil else { throw .malformedJSON("not a JSON object") }
            guard let map = document.root.node["mcpOAuth"] else { return [] }
            guard let members = map.node.members else { throw .malformedJSON("mcpOAuth is not an object") }
            return members.map { member in
                Entry(key: member.key, token: Self.token(member.value.node, access: "accessToken", refresh: "refreshToken", expiry: "expiresAt",
                                                          scope: "scope", client: "clientId", secret: "clientSecret", url: "serverUrl"),
                      span: member.value.span)
            }
        case .codex:
            guard let members = document.root.node.members else { throw .malformedJSON("not a JSON object") }
            return members.map { member in
                Entry(key: member.key, token: Self.token(member.value.node, access: "access_token", refresh: "refresh_token", expiry: "expires_at",
                                                          scope: "scopes", client: "client_id", secret: "client_secret", url: "server_url"),
                      span: member.value.span)
            }
        case .gemini:
            guard case .array(let items) = document.root.node else { throw .malformedJSON("not a JSON array") }
            return items.enumerated().map { position, item in
                let name = item.node["serverName"]?.node.string ?? "#\(position)"
                var token: Result<LegacyToken, LegacyImportError> = .failure(.noAccessToken)
                if let inner = item.node["token"]?.node {
                    token = Self.token(inner, access: "accessToken", refresh: "refreshToken", expiry: "expiresAt", scope: "scope",
                                       client: nil, secret: nil, url: nil).map { found in
                        var found = found
                        found.clientID = item.node["clientId"]?.node.string
                        found.serverURL = item.node["mcpServerUrl"]?.node.string
                        return found
                    }
                }
                return Entry(key: name, token: token, span: item.span)
            }
        }
    }

    /// A token from an entry's members (`expiry` in milliseconds; `scope` a string or a list).
    private static func token(_ node: JSONNode, access: String, refresh: String, expiry: String, scope: String, client: String?,
                              secret: String?, url: String?) -> Result<LegacyToken, LegacyImportError> {
        guard node.members != nil else { return .failure(.malformedJSON("an entry is not an object")) }
        guard let accessToken = node[access]?.node.string, !accessToken.isEmpty else { return .failure(.noAccessToken) }
        var token = LegacyToken(accessToken: accessToken)
        token.refreshToken = node[refresh]?.node.string.flatMap { $0.isEmpty ? nil : $0 }
        if case .number(let text)? = node[expiry]?.node, let milliseconds = Double(text), milliseconds.isFinite, milliseconds > 0 {
            token.expiresAt = Int64(min(milliseconds / 1000, 253_402_300_799))
        }
        token.scope = node[scope]?.node.string ?? node[scope]?.node.strings?.joined(separator: " ")
        token.clientID = client.flatMap { node[$0]?.node.string }
        token.clientSecret = secret.flatMap { node[$0]?.node.string }
        token.serverURL = url.flatMap { node[$0]?.node.string }
        return .success(token)
    }

    /// Finds the entries of the store's file at `path` (nothing when it is not there).
    public func scan(path: String, assignments: [String: String], into scan: inout LegacyScan) {
        guard PlainFiles.exists(path) else { return }
        let document: JSONCDocument
        let found: [Entry]
        do {
            let bytes = try PlainFiles.read(path, limit: LegacyScanner.indexLimit)
            do { document = try JSONCDocument(bytes) } catch { throw LegacyImportError.malformedJSON("\(error)") }
            found = try entries(document)
        } catch let error as LegacyImportError {
            scan.items.append(LegacyItem(origin: .clientStore(path: path, key: "*"), token: .failure(error)))
            return
        } catch {
            scan.items.append(LegacyItem(origin: .clientStore(path: path, key: "*"), token: .failure(.unreadable("\(error)"))))
            return
        }
        // An entry without an access token (a sign-in not finished, or signed out) holds no token.
        for entry in found where entry.token != .failure(.noAccessToken) {
            let token = entry.token.flatMap { token -> Result<LegacyToken, LegacyImportError> in
                var token = token
                token.serverURL = assignments[entry.key] ?? token.serverURL
                return token.serverURL == nil ? .failure(.noServerURL(name: entry.key, inIndexedDirectory: false)) : .success(token)
            }
            scan.items.append(LegacyItem(origin: .clientStore(path: path, key: entry.key), token: token,
                                         fingerprint: PlainFiles.fingerprint(Array(document.bytes[entry.span]))))
        }
    }

    /// The store a file is, by its shape: Gemini's is an array; Claude Code's has its own sign-in
    /// or `mcpOAuth` at the top; Codex's is a map of entries.
    static func of(_ document: JSONCDocument) -> ClientTokenStore {
        if case .array = document.root.node { return .gemini }
        return document.root.node["mcpOAuth"] != nil || document.root.node["claudeAiOauth"] != nil ? .claudeCode : .codex
    }

    /// Removes the entries `keys` (each only while it holds what was read: its fingerprint) from
    /// the file in place: every other byte stays. The old bytes are overwritten as they are
    /// replaced (no copy keeps the plaintext). A Codex or Gemini file left with no entry goes.
    /// Returns the keys left in place because they changed.
    public static func removeEntries(_ fingerprints: [String: String?], from path: String) throws -> Set<String> {
        let original = try PlainFiles.read(path, limit: LegacyScanner.indexLimit)
        var bytes = original
        let store = of(try JSONCDocument(bytes))
        let permissions = PlainFiles.attributes(path)?.permissions ?? 0o600
        var changed: Set<String> = []
        var removed = false
        // From the last entry back, so that removing one does not renumber an unnamed one (`#N`) still to come.
        let positions = Dictionary(try store.entries(JSONCDocument(bytes)).enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, fingerprint) in fingerprints.sorted(by: { (positions[$0.key] ?? -1) > (positions[$1.key] ?? -1) }) {
            let document = try JSONCDocument(bytes)
            // Not there (any more): left as changed, never reported removed.
            guard let entry = try store.entries(document).first(where: { $0.key == key }) else {
                changed.insert(key)
                continue
            }
            guard PlainFiles.fingerprint(Array(bytes[entry.span])) == fingerprint else {
                changed.insert(key)
                continue
            }
            bytes = removing(entry, in: document)
            removed = true
        }
        guard removed else { return changed }
        // The client may have written the file meanwhile (Claude Code refreshing its own sign-in):
        // its write is not overwritten.
        guard try PlainFiles.read(path, limit: LegacyScanner.indexLimit) == original else {
            throw LegacyCleanup.CleanupRefusal(reason: LegacyCleanup.changedSinceRead)
        }
        if store != .claudeCode, try store.entries(try JSONCDocument(bytes)).isEmpty {
            try PlainFiles.shred(path)
        } else {
            try PlainFiles.replace(path, with: bytes, wipingOld: true, permissions: permissions)
        }
        return changed
    }

    /// The document without one member of an object or element of an array, and the comma that
    /// went with it; a container left empty is written `{}` or `[]`.
    private static func removing(_ entry: Entry, in document: JSONCDocument) -> [UInt8] {
        // The container holding the entry: its items' spans (a member's from its key).
        func container(_ located: JSONNode.Located) -> (span: Range<Int>, items: [Range<Int>], object: Bool)? {
            switch located.node {
            case .object(let members):
                if members.contains(where: { $0.value.span == entry.span }) { return (located.span, members.map(\.span), true) }
                return members.lazy.compactMap { container($0.value) }.first
            case .array(let items):
                if items.contains(where: { $0.span == entry.span }) { return (located.span, items.map(\.span), false) }
                return items.lazy.compactMap { container($0) }.first
            default:
                return nil
            }
        }
        var bytes = document.bytes
        guard let (span, items, object) = container(document.root), let index = items.firstIndex(where: { $0.upperBound == entry.span.upperBound }) else {
            return bytes
        }
        if items.count == 1 {
            bytes.replaceSubrange(span, with: Array((object ? "{}" : "[]").utf8))
        } else if index + 1 < items.count {
            bytes.removeSubrange(items[index].lowerBound..<items[index + 1].lowerBound)  // it, its comma, the next one's indentation
        } else {
            bytes.removeSubrange(items[index - 1].upperBound..<items[index].upperBound)  // the comma before it, and it
        }
        return bytes
    }
}
