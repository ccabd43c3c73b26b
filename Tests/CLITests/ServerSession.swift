import Credentials
import Foundation
import Testing
import TestSupport

/// A vault in a throwaway HOME and the commands a user runs against one bundled server.
struct ServerSession {
    let fixture: VaultFixture
    let server: TestAuthorizationServer
    var url: String { server.mcpURL }

    init(_ server: TestAuthorizationServer, createVault: Bool = true) throws {
        self.server = server
        fixture = try VaultFixture()
        if createVault { try fixture.createPassphraseVault() }
    }

    /// A session over a fixture set up by the caller (a vault elsewhere, say).
    init(_ server: TestAuthorizationServer, fixture: VaultFixture) {
        self.server = server
        self.fixture = fixture
    }

    var environment: [String: String] {
        fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL", "MCP_VAULT_HTTP_TIMEOUT": "5"]) { $1 }
    }

    func login(_ extra: [String] = []) async throws -> ProcessResult {
        try await runAsync(Binaries.mcpVault, ["login", url, "--passphrase-file", fixture.passphraseFile, "--timeout", "20"] + extra,
                           environment: environment)
    }

    func token(_ extra: [String] = []) async throws -> ProcessResult {
        try await runAsync(Binaries.mcpVault, ["token", url, "--passphrase-file", fixture.passphraseFile] + extra, environment: environment)
    }

    func record() throws -> CredentialRecord {
        let stored = try fixture.tool(["get", url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        try #require(stored.status == 0, "\(stored)")
        return try CredentialRecord.decode(Array(stored.stdout.dropLast().utf8), id: "test")
    }

    /// Moves the stored access token's expiry into the past, as time would.
    func expireAccessToken() throws {
        var record = try record()
        record.tokens?.expiresAt = Int64(Date().timeIntervalSince1970) - 10
        let stored = try fixture.tool(["put", url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase],
                                      input: String(decoding: record.encoded(), as: UTF8.self))
        try #require(stored.status == 0, "\(stored)")
    }
}

/// A signed-in vault unlocked into the session cache, so that `token` starts fast.
struct UnlockedSession {
    let session: ServerSession

    init(_ server: TestAuthorizationServer) async throws {
        session = try ServerSession(server)
        let login = try await session.login()
        try #require(login.status == 0, "\(login)")
        let unlocked = try session.fixture.mcpVault(["unlock", "--for", "10m", "--passphrase-file", session.fixture.passphraseFile])
        try #require(unlocked.status == 0, "\(unlocked)")
    }

    var environment: [String: String] { session.fixture.environment.merging(["MCP_VAULT_HTTP_TIMEOUT": "5"]) { $1 } }

    func token(_ extra: [String] = [], environment more: [String: String] = [:]) async throws -> ProcessResult {
        try await runAsync(Binaries.mcpVault, ["token", session.url] + extra, environment: environment.merging(more) { $1 })
    }

    /// Marks the access token expired under the record's lock (a refresh in flight is not undone).
    func expire() throws {
        let result = try session.fixture.tool(["expire", session.url])
        try #require(result.status == 0, "\(result)")
    }

    func lock() { _ = try? session.fixture.mcpVault(["lock"]) }
}

/// A passphrase vault signed in to the MCP Python SDK's peer (`curl -sL` as the browser) and
/// unlocked into the session cache, so that a proxy needs no passphrase; `lock()` it when done.
func signedInToPeer(_ server: PythonSDKServer) async throws -> VaultFixture {
    let fixture = try VaultFixture()
    try fixture.createPassphraseVault()
    let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--passphrase-file", fixture.passphraseFile],
                                   environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
    try #require(login.status == 0, "\(login)")
    try #require(fixture.mcpVault(["unlock", "--passphrase-file", fixture.passphraseFile]).status == 0)
    return fixture
}
