import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

/// MCP clients' own plaintext token files (Claude Code, Codex, Gemini CLI): `migrate` imports each
/// MCP server's entry, the token refreshes at the server, and only those entries leave the file.
@Suite("Clients' own token files")
struct ClientTokenStoreTests {
    enum Store: String, CaseIterable {
        case claudeCode, codex, gemini
    }

    /// The file as the client writes it, holding the donor's real tokens (expired a minute ago)
    /// beside the client's own data; and the bytes that must remain after the import.
    private func write(_ store: Store, home: String, url: String, tokens: CredentialRecord.Tokens, clientID: String) throws -> (path: String, after: String) {
        let expired = (Int(Date().timeIntervalSince1970) - 60) * 1000
        let refresh = tokens.refreshToken ?? ""
        let path: String
        let before: String
        let after: String
        switch store {
        case .claudeCode:
            path = home + "/.claude/.credentials.json"
            let head = #"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-own-sign-in","refreshToken":"sk-ant-ort01-own","expiresAt":1900000000000,"scopes":["user:inference"]},"mcpOAuth":{"#
            let other = #""notion|0123456789abcdef":{"serverName":"notion","serverUrl":"https://mcp.notion.com/mcp","accessToken":"","expiresAt":0}"#
            let demo = #""demo|fedcba9876543210":{"serverName":"demo","serverUrl":"\#(url)","accessToken":"\#(tokens.accessToken)","refreshToken":"\#(refresh)","expiresAt":\#(expired),"scope":"mcp:read","clientId":"\#(clientID)"}"#
            before = head + other + "," + demo + "}}"
            after = head + other + "}}"
        case .codex:
            path = home + "/.codex/.credentials.json"
            before = #"{"demo|fedcba9876543210":{"server_name":"demo","server_url":"\#(url)","client_id":"\#(clientID)","access_token":"\#(tokens.accessToken)","expires_at":\#(expired),"refresh_token":"\#(refresh)","scopes":["mcp:read"]}}"#
            after = ""  // nothing else in it: the file goes
        case .gemini:
            path = home + "/.gemini/mcp-oauth-tokens.json"
            let other = #"{"serverName": "local", "token": {"accessToken": "", "tokenType": "Bearer"}, "updatedAt": 1}"#
            before = "[\n  " + other + ",\n  " + #"{"serverName": "demo", "token": {"accessToken": "\#(tokens.accessToken)", "refreshToken": "\#(refresh)", "expiresAt": \#(expired), "tokenType": "Bearer", "scope": "mcp:read"}, "clientId": "\#(clientID)", "mcpServerUrl": "\#(url)", "updatedAt": 2}"# + "\n]\n"
            after = "[\n  " + other + "\n]\n"
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try before.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return (path, after)
    }

    /// The samples in migrations/client-token-files, each where its client keeps it.
    @Test(arguments: [("claude-code/.credentials.json", ".claude/.credentials.json"), ("codex/.credentials.json", ".codex/.credentials.json"),
                      ("gemini/mcp-oauth-tokens.json", ".gemini/mcp-oauth-tokens.json")])
    func theSamplesAreImported(sample: String, place: String) throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let path = fixture.home.path + "/" + place
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Binaries.repositoryRoot + "/migrations/client-token-files/samples/" + sample, toPath: path)
        let migrate = try fixture.mcpVault(["migrate", "--passphrase-file", fixture.passphraseFile])
        #expect(migrate.status == 0 && migrate.stdout.contains("https://mcp.linear.app/mcp"), "\(migrate)")
        let status = try fixture.mcpVault(["status", "https://mcp.linear.app/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(status.status == 0 && status.stdout.contains("read write"), "\(status)")
        let left = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(!left.contains("sample-linear-access") && !left.contains("sample-linear-refresh"), "\(left)")
        if place.hasPrefix(".claude") {
            #expect(left.contains(#""claudeAiOauth":{"accessToken":"sk-ant-oat01-SAMPLE""#) && left.contains(#""notion|0123456789abcdef""#), "\(left)")
        }
    }

    @Test(arguments: Store.allCases)
    func anEntryIsImportedRefreshedAndTakenOutOfTheFile(_ store: Store) async throws {
        let server = try await TestAuthorizationServer()
        let donor = try ServerSession(server)
        #expect(try await donor.login().status == 0)
        let signedIn = try donor.record()
        let tokens = try #require(signedIn.tokens)
        let clientID = try #require(signedIn.client?.clientID)

        let session = try ServerSession(server)
        let (path, after) = try write(store, home: session.fixture.home.path, url: session.url, tokens: tokens, clientID: clientID)
        let migrate = try session.fixture.mcpVault(["migrate", "--passphrase-file", session.fixture.passphraseFile])
        #expect(migrate.status == 0, "\(migrate)")
        #expect(!migrate.output.contains(tokens.accessToken), "no token in the output")
        if after.isEmpty {
            #expect(!FileManager.default.fileExists(atPath: path), "a file left with no entry goes")
        } else {
            #expect(try String(contentsOfFile: path, encoding: .utf8) == after, "only the entry left the file")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent).allSatisfy { !$0.contains("before") },
                "no backup keeps the plaintext")

        let refreshed = try await session.token()
        #expect(refreshed.status == 0, "\(refreshed)")
        #expect(try await server.accepts(refreshed.stdout.trimmingCharacters(in: .newlines)))
        #expect(try await server.stats()["refresh_requests"] == 1)

        let again = try session.fixture.mcpVault(["migrate", "--passphrase-file", session.fixture.passphraseFile])
        #expect(again.status == 0 && !again.stdout.contains("imported"), "a second migrate finds nothing: \(again)")
    }
}
