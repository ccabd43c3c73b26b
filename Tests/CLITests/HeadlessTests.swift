import Foundation
import Testing
import TestSupport

/// A passphrase-only vault on a machine with no D-Bus at all (VaultFixture's environment has no
/// DBUS_SESSION_BUS_ADDRESS and no $XDG_RUNTIME_DIR/bus).
private func headlessVault() throws -> VaultFixture {
    let fixture = try VaultFixture()
    try fixture.createPassphraseVault()
    return fixture
}

private func loginArguments(_ fixture: VaultFixture, _ url: String, _ extra: [String]) -> [String] {
    ["login", url, "--passphrase-file", fixture.passphraseFile, "--timeout", "60"] + extra
}

@Suite("Headless login: device code")
struct DeviceFlowTests {
    @Test func pendingThenApproved() async throws {
        let server = try await TestAuthorizationServer { $0.devicePendingPolls = 2 }
        let fixture = try headlessVault()
        let result = try await runAsync(Binaries.mcpVault, loginArguments(fixture, server.mcpURL, ["--device"]), environment: fixture.environment)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("enter the code"), "\(result)")
        #expect(try await server.stats()["device_polls_too_early"] == 0)
        #expect(try fixture.mcpVault(["token", server.mcpURL, "--passphrase-file", fixture.passphraseFile]).status == 0)
    }

    @Test func slowDownIsHonoured() async throws {
        let server = try await TestAuthorizationServer { $0.deviceSlowDown = true }
        let fixture = try headlessVault()
        let result = try await runAsync(Binaries.mcpVault, loginArguments(fixture, server.mcpURL, ["--device"]), environment: fixture.environment)
        #expect(result.status == 0, "\(result)")
        #expect(try await server.stats()["device_polls_too_early"] == 0, "after slow_down the client waited 5 s longer")
    }

    @Test(arguments: [("deny", "access_denied"), ("expire", "expired")])
    func deniedAndExpiredAreReported(outcome: String, message: String) async throws {
        let server = try await TestAuthorizationServer { $0.deviceOutcome = .init(rawValue: outcome)! }
        let fixture = try headlessVault()
        let result = try await runAsync(Binaries.mcpVault, loginArguments(fixture, server.mcpURL, ["--device"]), environment: fixture.environment)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    @Test func withoutDisplayOrBrowserTheDeviceFlowIsChosen() async throws {
        let server = try await TestAuthorizationServer()
        let fixture = try headlessVault()
        let result = try await runAsync(Binaries.mcpVault, loginArguments(fixture, server.mcpURL, []), environment: fixture.environment)
        #expect(result.status == 0 && result.stderr.contains("enter the code"), "\(result)")
    }
}

@Suite("Headless login: paste mode")
struct PasteModeTests {
    /// Runs `login --paste`, follows the printed URL to its redirect, and pastes that address
    /// (after `tamper`) into the login's standard input.
    private func paste(tamper: @escaping (String) -> String) async throws -> (ProcessResult, TestAuthorizationServer) {
        let server = try await TestAuthorizationServer()
        let fixture = try headlessVault()
        let scratch = try TemporaryDirectory(prefix: "paste")
        let login = try ChildProcess(Binaries.mcpVault, loginArguments(fixture, server.mcpURL, ["--paste"]), environment: fixture.environment,
                                     output: .file(scratch.file("out")), error: .pipe, pipedInput: true)
        var stderr = ""
        while let line = login.readLine() {
            stderr += line + "\n"
            if line.contains("/authorize?") { break }
        }
        let url = stderr.split(separator: "\n").first { $0.contains("/authorize?") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let redirect = try await runAsync("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{redirect_url}", url], environment: [:])
        login.write(tamper(redirect.stdout) + "\n")
        while let line = login.readLine() { stderr += line + "\n" }
        let status = await login.waitAsync(timeout: 60) ?? -1
        let out = (try? String(contentsOfFile: scratch.file("out"), encoding: .utf8)) ?? ""
        return (ProcessResult(status: status, stdout: out, stderr: stderr, seconds: 0), server)
    }

    @Test func thePastedAddressCompletesTheLogin() async throws {
        let (result, server) = try await paste { $0 }
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Signed in to \(server.mcpURL)"))
    }

    @Test func aPastedAddressWithAnotherStateIsRefused() async throws {
        let (result, _) = try await paste { $0.replacingOccurrences(of: "state=", with: "state=forged") }
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("state does not match"), "\(result)")
    }
}

@Suite("Passphrase-first use without D-Bus")
struct PassphraseFirstTests {
    @Test func everyCommandWorksWithAPassphraseFileAndNoBus() async throws {
        let server = try await TestAuthorizationServer()
        let fixture = try headlessVault()
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let environment = fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 }
        #expect(environment["DBUS_SESSION_BUS_ADDRESS"] == nil)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL] + pass, environment: environment)
        #expect(login.status == 0, "\(login)")
        #expect(try await runAsync(Binaries.mcpVault, ["token", server.mcpURL] + pass, environment: environment).status == 0)
        #expect(try await runAsync(Binaries.mcpVault, ["token", server.mcpURL, "--min-ttl", "100000"] + pass, environment: environment).status == 0,
                "a refresh works without a bus too")
        #expect(try await runAsync(Binaries.mcpVault, ["status"] + pass, environment: environment).status == 0)
        #expect(try await runAsync(Binaries.mcpVault, ["migrate"] + pass, environment: environment).status == 0)
        #expect(try await runAsync(Binaries.mcpVault, ["logout", server.mcpURL] + pass, environment: environment).status == 0)
    }

    @Test func afterUnlockNothingAsksAgainAndALockedVaultFailsAtOnce() async throws {
        let fixture = try headlessVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp", token: "one-token")
        let unlocked = try fixture.mcpVault(["unlock", "--for", "1m", "--passphrase-file", fixture.passphraseFile])
        #expect(unlocked.status == 0)
        let token = try fixture.mcpVault(["token", "https://one.example.com/mcp"])
        #expect(token.status == 0 && token.stdout == "one-token\n", "\(token)")
        #expect(try fixture.mcpVault(["lock"]).status == 0)
        let locked = try fixture.mcpVault(["token", "https://one.example.com/mcp"])
        #expect(locked.status == 77, "\(locked)")
        #expect(locked.stderr.contains("mcp-vault unlock"), "\(locked)")
        #expect(locked.seconds < 5, "it fails at once, with no prompt to wait on")
    }

    @Test func argon2idRunsOncePerCommandNotPerRecord() throws {
        let fixture = try headlessVault()
        for number in 0..<4 { try storeCredential(fixture, url: "https://server\(number).example.com/mcp") }
        let status = try fixture.mcpVault(["status", "--verbose", "--passphrase-file", fixture.passphraseFile])
        #expect(status.status == 0, "\(status)")
        #expect(status.stderr.components(separatedBy: "deriving the passphrase key").count - 1 == 1, "\(status.stderr)")
    }
}
