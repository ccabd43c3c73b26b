import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

/// Two identities at one server: the default account and `--account work`, each its own record,
/// registration, tokens and refresh lock.
@Suite("Accounts")
struct AccountTests {
    /// A "browser" that signs in as `user` (the bundled server takes the login_hint as who signs in).
    func browser(as user: String, in fixture: VaultFixture) throws -> String {
        let path = fixture.home.file("browser-\(user)")
        try writeExecutable("#!/bin/sh\nexec /usr/bin/curl -sL \"$1&login_hint=\(user)\"\n", to: path)
        return path
    }

    func whoami(_ proxy: ProxyProcess, id: Int) -> String? {
        let call = proxy.request(id, "tools/call", #"{"name":"whoami","arguments":{}}"#)
        return ((call?["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String
    }

    func stats(_ server: TestAuthorizationServer) async throws -> [String: Int] {
        let result = try await runAsync("/usr/bin/curl", ["-s", server.origin + "/test/stats"], environment: [:])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Int] ?? [:]
    }

    @Test func twoAccountsOfOneServerAreTwoIdentities() async throws {
        let server = try await TestAuthorizationServer()
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let url = server.mcpURL
        let alice = try await runAsync(Binaries.mcpVault, ["login", url, "--timeout", "20"] + pass,
                                       environment: session.environment.merging(["BROWSER": try browser(as: "alice", in: fixture)]) { $1 })
        #expect(alice.status == 0, "\(alice)")
        let bob = try await runAsync(Binaries.mcpVault, ["login", url, "--account", "work", "--name", "demo-work", "--timeout", "20"] + pass,
                                     environment: session.environment.merging(["BROWSER": try browser(as: "bob", in: fixture)]) { $1 })
        #expect(bob.status == 0 && bob.stdout.contains("Signed in to \(url) (account work)"), "\(bob)")
        #expect(try fixture.recordFiles().count == 2)

        // Each account's token is its own identity, through token and through the proxy.
        let defaultToken = try await session.token()
        let workToken = try await session.token(["--account", "work"])
        let byName = try await runAsync(Binaries.mcpVault, ["token", "demo-work"] + pass, environment: session.environment)
        #expect(defaultToken.status == 0 && workToken.status == 0 && defaultToken.stdout != workToken.stdout, "\(defaultToken) \(workToken)")
        #expect(byName.stdout == workToken.stdout, "a name bound to an account gives that account's token: \(byName)")
        let mismatch = try await runAsync(Binaries.mcpVault, ["token", "demo-work", "--account", "other"] + pass, environment: session.environment)
        #expect(mismatch.status == 64 && mismatch.stderr.contains("bound to the account work"), "\(mismatch)")

        #expect(try fixture.mcpVault(["unlock"] + pass).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let defaultProxy = try ProxyProcess(url, fixture: fixture)
        let workProxy = try ProxyProcess(url, ["--account", "work"], fixture: fixture)
        #expect(defaultProxy.initialize()?["result"] != nil && workProxy.initialize()?["result"] != nil)
        #expect(whoami(defaultProxy, id: 2) == "alice")
        #expect(whoami(workProxy, id: 2) == "bob", "\(workProxy.stderr)")

        // Refreshing one account never touches the other: its record stays byte for byte.
        let before = try fixture.tool(["get", url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        #expect(try fixture.tool(["expire", url + "#account=work"], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase]).status == 0)
        let refreshed = try await session.token(["--account", "work"])
        #expect(refreshed.status == 0 && refreshed.stdout != workToken.stdout, "\(refreshed)")
        let after = try fixture.tool(["get", url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        #expect(before.stdout == after.stdout)
        let counts = try await stats(server)
        #expect(counts["refresh_requests_bob"] == 1 && counts["refresh_requests_alice"] == nil, "\(counts)")
        #expect(whoami(workProxy, id: 3) == "bob" && whoami(defaultProxy, id: 3) == "alice")
        for proxy in [defaultProxy, workProxy] {
            proxy.process.closeInput()
            _ = await proxy.process.waitAsync(timeout: 10)
        }

        let status = try fixture.mcpVault(["status", "--json"] + pass)
        let records = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]] ?? []
        #expect(records.map { $0["account"] as? String } == ["default", "work"], "\(status)")
        let text = try fixture.mcpVault(["status", url, "--account", "work"] + pass)
        #expect(text.status == 0 && text.stdout.contains("  account    work") && text.stdout.contains("  name       demo-work"), "\(text)")

        // Logging out of one account leaves the other.
        let logout = try await runAsync(Binaries.mcpVault, ["logout", url, "--account", "work"] + pass, environment: session.environment)
        #expect(logout.status == 0 && logout.stdout.contains("Logged out of \(url) (account work)"), "\(logout)")
        let still = try await session.token()
        #expect(still.status == 0 && still.stdout == defaultToken.stdout, "\(still)")
        let gone = try await session.token(["--account", "work"])
        #expect(gone.status == 66 && gone.stderr.contains("--account work"), "\(gone)")
        let badAccount = try await session.token(["--account", "no/slash"])
        #expect(badAccount.status == 64 && badAccount.stderr.contains("is not an account name"), "\(badAccount)")
    }
}
