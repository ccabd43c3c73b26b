#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// mcp-remote's plaintext store: `$MCP_REMOTE_CONFIG_DIR` (else `~/.mcp-auth`), one
/// `mcp-remote-<version>` folder per version, and in it per server `<hash>_tokens.json` (the
/// token response as the server sent it), `<hash>_client_info.json` (the registration),
/// `<hash>_code_verifier.txt` and `<hash>_lock.json`. The hash is the MD5 of the server URL as
/// written in the client's configuration (see `hashes`), so a file is matched to its server by
/// hashing the URLs that configurations and the vault know.
public enum MCPRemoteStore {
    /// The files that share a hash with `<hash>_tokens.json` and go with it.
    public static let companionSuffixes = ["_client_info.json", "_code_verifier.txt", "_lock.json"]

    /// The names mcp-remote may have given the files of a server started as
    /// `mcp-remote URL [--authorize-resource R] [--header 'Name: value']…`: MD5 of the URL, or of
    /// `URL|R|{"Name":"value"}` (headers as compact JSON, keys sorted) when it ran with those. A
    /// header's value is tried as written and with its leading spaces removed, as mcp-remote
    /// versions differ there.
    public static func hashes(serverURL: String, authorizeResource: String? = nil, headers: [(name: String, value: String)] = []) -> Set<String> {
        var variants: Set<String> = []
        for trimming in [false, true] {
            var parts = [serverURL]
            if let authorizeResource, !authorizeResource.isEmpty { parts.append(authorizeResource) }
            if !headers.isEmpty {
                var merged: [String: String] = [:]
                for header in headers { merged[header.name] = trimming ? String(header.value.drop { $0 == " " }) : header.value }
                let members = merged.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
                    .map { JSONText.quoted($0) + ":" + JSONText.quoted(merged[$0]!) }
                parts.append("{" + members.joined(separator: ",") + "}")
            }
            variants.insert(MD5.hex(parts.joined(separator: "|")))
        }
        return variants
    }

    /// Every `<hash>_tokens.json` under the version folders of `directory`.
    static func scan(_ directory: String, urlsByHash: [String: String], assignments: [String: String], into scan: inout LegacyScan) {
        guard PlainFiles.exists(directory) else { return }
        if PlainFiles.isSymbolicLink(directory) {
            scan.items.append(LegacyItem(origin: .entry(path: directory, key: "*"), token: .failure(.symbolicLinkDirectory(directory))))
            return
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("mcp-remote-") }.sorted()
        for version in versions {
            scanVersionFolder(directory + "/" + version, urlsByHash: urlsByHash, assignments: assignments, into: &scan)
        }
    }

    /// One `mcp-remote-<version>` folder.
    static func scanVersionFolder(_ folder: String, urlsByHash: [String: String], assignments: [String: String], into scan: inout LegacyScan) {
        do {
            guard !PlainFiles.isSymbolicLink(folder) else {
                scan.items.append(LegacyItem(origin: .entry(path: folder, key: "*"), token: .failure(.symbolicLinkDirectory(folder))))
                return
            }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
            scan.directories.append(folder)
            for name in names.filter({ $0.hasSuffix("_tokens.json") && !$0.hasPrefix(".") }).sorted() {
                let path = folder + "/" + name
                let hash = String(name.dropLast("_tokens.json".count))
                var fingerprint: String?
                var notes: [String] = []
                scan.items.append(LegacyItem(origin: .mcpRemote(path: path, hash: hash), token: Result { () throws(LegacyImportError) -> LegacyToken in
                    let bytes = try read(path)
                    fingerprint = PlainFiles.fingerprint(bytes)
                    let clientPath = folder + "/" + hash + "_client_info.json"
                    let client: [UInt8]?
                    do {
                        client = PlainFiles.exists(clientPath) ? try read(clientPath) : nil
                    } catch {
                        throw .unreadable("its \(hash)_client_info.json cannot be used: \(error)")
                    }
                    let written = PlainFiles.attributes(path)?.modified ?? 0
                    var token = try self.token(tokens: Data(bytes), clientInfo: client.map { Data($0) }, written: written)
                    token.serverURL = assignments[hash] ?? assignments[hash.lowercased()] ?? urlsByHash[hash.lowercased()]
                    guard let url = token.serverURL else { throw .unmatchedHash(hash) }
                    if assignments[hash] ?? assignments[hash.lowercased()] != nil, !hashes(serverURL: url).contains(hash.lowercased()) {
                        notes.append("--assign \(hash)=\(url): the file's name is not the MD5 of that URL; that is right only if mcp-remote ran with --header or --resource for it")
                    }
                    return token
                }, fingerprint: fingerprint))
                scan.notes += notes
            }
        }
    }

    private struct Tokens: Decodable {
        var access_token: String?
        var refresh_token: String?
        var expires_in: Lifetime?
        var scope: String?
    }

    /// `expires_in` as servers send it: a number, or a number in a string.
    private struct Lifetime: Decodable {
        let seconds: Double?
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            seconds = (try? container.decode(Double.self)) ?? (try? container.decode(String.self)).flatMap(Double.init)
        }
    }

    private struct Client: Decodable {
        var client_id: String?
        var client_secret: String?
        var token_endpoint_auth_method: String?
    }

    /// The token response mcp-remote kept, with the registration beside it. The response holds
    /// `expires_in` only, so the expiry is counted from when the file was written.
    static func token(tokens: Data, clientInfo: Data?, written: Int64) throws(LegacyImportError) -> LegacyToken {
        guard !tokens.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) else { throw .empty }
        let raw: Tokens
        do {
            raw = try JSONDecoder().decode(Tokens.self, from: tokens)
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            throw .malformedJSON("\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw .malformedJSON("not a JSON object")
        }
        guard let access = raw.access_token, !access.isEmpty else { throw .noAccessToken }
        var client: Client?
        if let clientInfo {
            do { client = try JSONDecoder().decode(Client.self, from: clientInfo) } catch {
                throw .malformedJSON("the client_info.json beside it is not a registration")
            }
        }
        // mcp-remote accepts any expires_in; an odd one is read as it would act: a negative one
        // as already expired, a huge one as ten years, one that is no number as unknown.
        let expiresAt = raw.expires_in?.seconds.flatMap { seconds -> Int64? in
            guard seconds.isFinite else { return nil }
            return written + Int64(min(max(seconds, 0), 315_360_000))
        }
        let secret = client?.client_secret.flatMap { $0.isEmpty ? nil : $0 }
        return LegacyToken(accessToken: access, refreshToken: raw.refresh_token.flatMap { $0.isEmpty ? nil : $0 }, expiresAt: expiresAt,
                           scope: raw.scope, clientID: client?.client_id, clientSecret: secret,
                           clientAuthMethod: client?.token_endpoint_auth_method ?? (secret == nil ? "none" : nil), serverURL: nil)
    }

    private static func read(_ path: String) throws(LegacyImportError) -> [UInt8] {
        do {
            return try PlainFiles.read(path, limit: LegacyScanner.fileLimit)
        } catch {
            throw .unreadable(error.description)
        }
    }
}
