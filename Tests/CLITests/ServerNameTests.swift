import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// Servers are known to their users by name, as in every client's configuration.
@Suite("Server names")
struct ServerNameTests {
    @Test func aNameResolvesInTokenStatusProxyAndLogout() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let pass = ["--passphrase-file", session.fixture.passphraseFile]
        #expect(try await session.login(["--name", "demo"]).status == 0)

        let byName = try await runAsync(Binaries.mcpVault, ["token", "demo"] + pass, environment: session.environment)
        let byURL = try await session.token()
        #expect(byName.status == 0 && byName.stdout == byURL.stdout, "\(byName)")

        let status = try session.fixture.mcpVault(["status", "demo"] + pass)
        #expect(status.status == 0 && status.stdout.contains("  name       demo"), "\(status)")

        let unlocked = try session.fixture.mcpVault(["unlock"] + pass)
        #expect(unlocked.status == 0)
        defer { _ = try? session.fixture.mcpVault(["lock"]) }
        let proxy = try ProxyProcess("demo", fixture: session.fixture)
        #expect(proxy.initialize()?["result"] != nil, "\(proxy.stderr)")
        proxy.process.closeInput()
        _ = await proxy.process.waitAsync(timeout: 10)

        let unknown = try await runAsync(Binaries.mcpVault, ["token", "linaer"] + pass, environment: session.environment)
        #expect(unknown.status == 66 && unknown.stderr.contains("no stored server is named 'linaer' (names: demo)"), "\(unknown)")

        let logout = try await runAsync(Binaries.mcpVault, ["logout", "demo"] + pass, environment: session.environment)
        #expect(logout.status == 0 && logout.stdout.contains("Logged out of \(session.url)"), "\(logout)")
    }

    @Test func aNameCannotBeGivenTwice() async throws {
        let first = try await TestAuthorizationServer()
        let second = try await TestAuthorizationServer()
        let session = try ServerSession(first)
        #expect(try await session.login(["--name", "shared"]).status == 0)
        let again = try await runAsync(Binaries.mcpVault, ["login", second.mcpURL, "--name", "shared", "--passphrase-file", session.fixture.passphraseFile],
                                       environment: session.environment)
        #expect(again.status == 64 && again.stderr.contains("the name is already given to \(first.mcpURL)"), "\(again)")
    }
}
