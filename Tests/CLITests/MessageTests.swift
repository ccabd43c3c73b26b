import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// A login from a new vault, with a browser that opens nothing.
private func login(_ url: String) async throws -> ProcessResult {
    let fixture = try VaultFixture()
    try fixture.createPassphraseVault()
    return try await runAsync(Binaries.mcpVault, ["login", url, "--passphrase-file", fixture.passphraseFile, "--timeout", "10"],
                              environment: fixture.environment.merging(["BROWSER": "/bin/false", "MCP_VAULT_HTTP_TIMEOUT": "10"]) { $1 })
}

/// Python's http.server on 127.0.0.1 (with TLS and a fresh self-signed certificate when `tls`),
/// and its port.
private func pythonWebServer(tls: Bool = false) throws -> (ChildProcess, String, TemporaryDirectory) {
    let directory = try TemporaryDirectory(prefix: "web")
    var setup = ""
    if tls {
        let made = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory.path + "/key.pem",
                                                "-out", directory.path + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
                                                "-addext", "subjectAltName=IP:127.0.0.1"], environment: [:])
        guard made.status == 0 else { throw TestFailure("openssl: \(made)") }
        setup = "import ssl; c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('\(directory.path)/cert.pem', '\(directory.path)/key.pem'); s.socket = c.wrap_socket(s.socket, server_side=True); "
    }
    let script = "import http.server; s = http.server.HTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler); \(setup)print(s.server_port, flush=True); s.serve_forever()"
    let web = try ChildProcess("/usr/bin/python3", ["-c", script], environment: ["PATH": "/usr/bin:/bin"], output: .pipe)
    guard let port = web.readLine(timeout: 20) else {
        web.stop()
        throw TestFailure("the web server did not start")
    }
    return (web, port, directory)
}

/// No metadata anywhere: neither protected-resource nor authorization-server.
private func withoutMetadata(_ options: inout ServerOptions) {
    options.resourceMetadata = .nowhere
    options.oauthMetadata = false
    options.openIDMetadata = false
}

/// What the user reads when a URL is not what `login` expects: what the URL is, never a hint
/// that weakens security where it would not help.
@Suite("Messages: what a URL turns out to be")
struct LoginTargetMessageTests {
    @Test func anMCPServerThatNeedsNoSignInIsNamedAsSuch() async throws {
        let server = try await TestAuthorizationServer {
            $0.mcpWithoutAuthorization = true
            withoutMetadata(&$0)
        }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("\(server.mcpURL) answers initialize without authorization: no login needed"), "\(result)")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    /// A web server no one here wrote (Python's http.server): a POST gets 501, and no metadata.
    @Test func aPlainWebServerIsNotMistakenForAnAuthorizationServer() async throws {
        let (web, port, _) = try pythonWebServer()
        defer { web.stop() }
        let url = "http://127.0.0.1:\(port)/mcp"
        let result = try await login(url)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("\(url) answered initialize with HTTP 501, so it may not be an MCP server, and no OAuth metadata was found"),
                "\(result)")
        #expect(result.stderr.contains("http://127.0.0.1:\(port)/.well-known/oauth-authorization-server"), "the places looked at are named")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    @Test func aServerThatAsksForAuthorizationWithoutAnyMetadataSaysSo() async throws {
        let server = try await TestAuthorizationServer { withoutMetadata(&$0) }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("asks for authorization (HTTP 401) but publishes no OAuth metadata"), "\(result)")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    /// Metadata that exists but does not list PKCE is where the flag is the answer.
    @Test func theUnsafeFlagIsSuggestedOnlyWhenMetadataOmitsPKCE() async throws {
        let server = try await TestAuthorizationServer { $0.codeChallengeMethods = nil }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4 && result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }
}

/// A typo gets the nearest thing that exists, never a suggestion to sign in to the typo.
@Suite("Messages: typos")
struct TypoMessageTests {
    private func fixture() throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp", token: "linear-token", name: "linear")
        return fixture
    }

    @Test func aMistypedServerURLSuggestsTheStoredOne() throws {
        let fixture = try fixture()
        for command in [["token"], ["status"], ["logout"]] {
            let result = try fixture.mcpVault(command + ["https://mcp.linear.app/mpc", "--passphrase-file", fixture.passphraseFile])
            #expect(result.status == 66, "\(result)")
            #expect(result.stderr.contains("did you mean https://mcp.linear.app/mcp?"), "\(result)")
            #expect(!result.stderr.contains("mcp-vault login https://mcp.linear.app/mpc"), "\(result)")
        }
    }

    @Test func aMistypedNameSuggestsTheStoredOne() throws {
        let fixture = try fixture()
        let result = try fixture.mcpVault(["token", "lineer", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 66 && result.stderr.contains("no stored server is named 'lineer'; did you mean 'linear'?"), "\(result)")
    }

    @Test func somethingFarFromAnythingStoredStillSuggestsALogin() throws {
        let fixture = try fixture()
        let result = try fixture.mcpVault(["token", "https://mcp.example.org/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 66 && result.stderr.contains("mcp-vault login https://mcp.example.org/mcp"), "\(result)")
        #expect(!result.stderr.contains("did you mean"), "\(result)")
    }

    @Test(arguments: [["tokn", "https://mcp.linear.app/mcp"], ["help", "tokn"]])
    func aMistypedCommandNamesTheNearestOne(_ arguments: [String]) throws {
        let result = try VaultFixture().mcpVault(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("mcp-vault: error: 'tokn' is not an mcp-vault command; did you mean 'token'?"), "\(result)")
        #expect(result.stdout.isEmpty, "no help text on a typo: \(result)")
    }
}

/// Every network failure is one sentence: what was contacted, what happened, what to check.
@Suite("Messages: network failures")
struct NetworkMessageTests {
    @Test func anUntrustedCertificateIsNamed() async throws {
        let (web, port, _) = try pythonWebServer(tls: true)
        defer { web.stop() }
        let result = try await login("https://127.0.0.1:\(port)/mcp")
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("cannot reach https://127.0.0.1:\(port)/mcp: the TLS handshake failed: the server's certificate is not trusted"),
                "\(result)")
        #expect(!result.stderr.contains("NIOSSL") && !result.stderr.contains("BoringSSL"), "\(result)")
    }

    @Test func plainHTTPOnATLSURLIsNamed() async throws {
        let (web, port, _) = try pythonWebServer()
        defer { web.stop() }
        let result = try await login("https://127.0.0.1:\(port)/mcp")
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("the server does not speak TLS on that port (is it plain http?)"), "\(result)")
    }

    @Test func anUnknownHostIsNamed() async throws {
        let result = try await login("https://no-such-host.invalid/mcp")
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("cannot reach https://no-such-host.invalid/mcp: no such host"), "\(result)")
        #expect(!result.stderr.contains("SocketAddressError") && !result.stderr.contains("NIO"), "\(result)")
    }

    @Test func aLoginThatTimesOutNamesTheOtherWaysToSignIn() async throws {
        let server = try await TestAuthorizationServer()
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let result = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--passphrase-file", fixture.passphraseFile, "--timeout", "2"],
                                        environment: fixture.environment.merging(["BROWSER": "/bin/true"]) { $1 })
        #expect(result.status == 75, "\(result)")
        #expect(result.stderr.contains("no authorization response arrived within 2 s") && result.stderr.contains("--device")
                && result.stderr.contains("--paste"), "\(result)")
    }
}

/// Passphrases: typed at a terminal (through Tests/Tools/terminal.py, a pseudo-terminal), given
/// by file, or missing.
@Suite("Messages: passphrases")
struct PassphraseMessageTests {
    /// Runs mcp-vault on a terminal, typing `answers` at its passphrase prompts.
    private func onTerminal(_ fixture: VaultFixture, _ arguments: [String], answers: [String]) throws -> ProcessResult {
        try run("/usr/bin/python3", [Binaries.repositoryRoot + "/Tests/Tools/terminal.py", "--answers-from-env", "ANSWERS", "--", Binaries.mcpVault] + arguments,
                environment: fixture.environment.merging(["ANSWERS": answers.joined(separator: "\n")]) { $1 })
    }

    @Test func aWrongPassphraseAtATerminalGetsTwoMoreTries() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let result = try onTerminal(fixture, ["status"], answers: ["not it", VaultFixture.passphrase])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Wrong passphrase; 2 more tries."), "\(result)")
        #expect(result.stdout.contains("Unlocking the vault (deriving the passphrase key)"), "a line while the derivation runs: \(result)")
        let three = try onTerminal(fixture, ["status"], answers: ["one", "two", "three"])
        #expect(three.status == 77 && three.stdout.contains("Wrong passphrase; 1 more try.") && three.stdout.contains("wrong passphrase"), "\(three)")
    }

    @Test func aWrongPassphraseFromAFileGetsNoRetry() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try "not it\n".write(toFile: fixture.home.file("wrong"), atomically: true, encoding: .utf8)
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.home.file("wrong")])
        #expect(result.status == 77 && !result.stderr.contains("more tr"), "\(result)")
    }

    @Test func aMissingPassphraseFileIsNamedAsSuch() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.home.file("no-such-file")])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("mcp-vault: error: --passphrase-file \(fixture.home.file("no-such-file")): no such file"), "\(result)")
        #expect(!result.stderr.contains("locked"), "\(result)")
    }

    @Test func initWithoutATerminalSaysHowToGiveTheNewPassphrase() throws {
        let fixture = try VaultFixture()
        let result = try fixture.mcpVault(["init", "--no-keyring"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("the new vault needs a passphrase") && result.stderr.contains("--passphrase-file FILE"), "\(result)")
        #expect(!result.stderr.contains("mcp-vault unlock"), "there is no vault to unlock: \(result)")
    }

    /// `unlock` renews the cache only on a proven passphrase (or keyring), never from the cache.
    @Test func unlockRenewsOnlyAfterTheSecretIsProvenAgain() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        #expect(try fixture.mcpVault(["unlock", "--for", "1m", "--passphrase-file", fixture.passphraseFile]).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        #expect(try fixture.mcpVault(["status"]).status == 0, "the cache serves other commands")
        let renewed = try fixture.mcpVault(["unlock", "--for", "24h"])
        #expect(renewed.status == 77, "\(renewed)")
        #expect(try fixture.mcpVault(["unlock", "--for", "24h", "--passphrase-file", fixture.passphraseFile]).status == 0)
    }
}

@Suite("Messages: logout --all")
struct LogoutAllMessageTests {
    private func fixture() throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://a.example.com/mcp")
        try storeCredential(fixture, url: "https://b.example.com/mcp")
        return fixture
    }

    @Test func withoutATerminalItNeedsYes() throws {
        let fixture = try fixture()
        let refused = try fixture.mcpVault(["logout", "--all", "--local-only", "--passphrase-file", fixture.passphraseFile])
        #expect(refused.status == 64 && refused.stderr.contains("add --yes"), "\(refused)")
        #expect(try fixture.recordFiles().count == 2, "nothing was deleted")
        let done = try fixture.mcpVault(["logout", "--all", "--local-only", "--yes", "--passphrase-file", fixture.passphraseFile])
        #expect(done.status == 0 && done.stdout.contains("Logged out of https://a.example.com/mcp"), "\(done)")
        #expect(try fixture.recordFiles().isEmpty)
    }

    @Test(arguments: [("n", false), ("y", true)])
    func atATerminalItAsksFirst(answer: String, goesAhead: Bool) throws {
        let fixture = try fixture()
        let result = try run("/usr/bin/python3", [Binaries.repositoryRoot + "/Tests/Tools/terminal.py", "--answers-from-env", "ANSWERS", "--",
                                                  Binaries.mcpVault, "logout", "--all", "--local-only", "--passphrase-file", fixture.passphraseFile],
                             environment: fixture.environment.merging(["ANSWERS": answer]) { $1 })
        #expect(result.stdout.contains("This logs out of 2 servers: https://a.example.com/mcp, https://b.example.com/mcp."), "\(result)")
        #expect(result.stdout.contains("Log out of all of them? [y/N]"))
        #expect(result.status == (goesAhead ? 0 : 1), "\(result)")
        #expect(try fixture.recordFiles().count == (goesAhead ? 0 : 2))
    }
}

/// `token --challenge` run by a client with no browser and no terminal: the device flow, or an
/// error at once (never a wait for a browser nobody sees).
@Suite("Messages: step-up without a terminal")
struct UnattendedStepUpTests {
    private let challenge = #"Bearer error="insufficient_scope", scope="mcp:admin""#

    private func signedIn(_ configure: @escaping @Sendable (inout ServerOptions) -> Void = { _ in }) async throws -> ServerSession {
        let session = try ServerSession(try await TestAuthorizationServer(configure))
        try #require(try await session.login().status == 0)
        return session
    }

    /// No BROWSER, no display, stdin and stderr not terminals.
    private func unattended(_ session: ServerSession, _ extra: [String]) async throws -> ProcessResult {
        var environment = session.fixture.environment
        environment["BROWSER"] = nil
        return try await runAsync(Binaries.mcpVault, ["token", session.url, "--passphrase-file", session.fixture.passphraseFile] + extra,
                                  environment: environment)
    }

    @Test func withoutADeviceFlowItFailsAtOnceWithTheCommandToRun() async throws {
        let session = try await signedIn { $0.deviceFlow = false }
        let started = Date()
        let result = try await unattended(session, ["--challenge", challenge])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("needs someone at a browser, and there is no terminal here"), "\(result)")
        #expect(result.stderr.contains("run `mcp-vault login \(session.url) --scope '"), "\(result)")
        #expect(Date().timeIntervalSince(started) < 60, "no wait for a browser")
        #expect(try session.record().stepUp == nil, "nothing was counted against the step-up limit")
    }

    @Test func withADeviceFlowItUsesIt() async throws {
        let session = try await signedIn()
        let result = try await unattended(session, ["--challenge", challenge])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("enter the code"), "the device code is shown: \(result)")
        #expect(try session.record().tokens?.scope?.contains("mcp:admin") == true)
    }

    @Test(arguments: [["--challenge", "garbage"], ["--challenge", #"Bearer error="insufficient_scope", scope="x""#, "--timeout", "5"]])
    func badChallengeArgumentsAreUsageErrors(_ extra: [String]) async throws {
        let session = try await signedIn()
        let result = try await unattended(session, extra)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("mcp-vault: error: --"), "\(result)")
    }
}

@Suite("Messages: doctor and versions")
struct DoctorMessageTests {
    @Test func aPassphraseOnlyVaultIsNotWarnedAboutTheKeyring() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.status == 0 && doctor.stdout.contains("The vault can be used."), "\(doctor)")
        #expect(doctor.stdout.contains("not needed: this vault has no keyring slot"), "\(doctor)")
        for line in doctor.stdout.split(separator: "\n") where line.contains("D-Bus") || line.contains("Secret Service") {
            #expect(!line.hasPrefix("[warning]"), "\(line)")
        }
    }

    @Test func bothProgramsAnswerVersionAlike() throws {
        let main = try run(Binaries.mcpVault, ["--version"], environment: [:])
        let oauth = try run(Binaries.mcpVault + "-oauth", ["--version"], environment: [:])
        #expect(main.status == 0 && oauth.status == 0 && !main.stdout.isEmpty && main.stdout == oauth.stdout, "\(main) \(oauth)")
        let fixture = try VaultFixture()
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("[ok]      mcp-vault-oauth: ") && doctor.stdout.contains("version " + main.stdout.split(separator: "\n")[0]), "\(doctor)")
    }

    @Test func doctorNamesAMissingOAuthProgram() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let alone = fixture.home.file("bin")
        try FileManager.default.createDirectory(atPath: alone, withIntermediateDirectories: true)
        // cp, not FileManager: a descriptor open in this process could reach a child forked by a
        // parallel test meanwhile, and the copy could not be executed ("text file busy").
        #expect(try run("/bin/cp", [Binaries.mcpVault, alone + "/mcp-vault"], environment: [:]).status == 0)
        let doctor = try run(alone + "/mcp-vault", ["doctor"], environment: fixture.environment)
        #expect(doctor.status == 1, "\(doctor)")
        #expect(doctor.stdout.contains("[problem] mcp-vault-oauth: \(alone)/mcp-vault-oauth is missing"), "\(doctor)")
        #expect(doctor.stdout.contains("install mcp-vault-oauth in the same directory as mcp-vault"))
    }
}

@Suite("Messages: migrate")
struct MigrateMessageTests {
    private func fixture(with files: [String: String]) throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let directory = fixture.home.path + "/.config/opencode/mcp-oauth"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return fixture
    }

    @Test func fromAPathThatDoesNotExistIsAUsageError() throws {
        let fixture = try fixture(with: [:])
        let result = try fixture.mcpVault(["migrate", "--from", fixture.home.file("nowhere"), "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 64 && result.stderr.contains("mcp-vault: error: --from \(fixture.home.file("nowhere")): no such file or directory"), "\(result)")
    }

    @Test func anAssignmentThatMatchesNothingIsReported() throws {
        let hash = "0123456789abcdef0123456789abcdef"
        let fixture = try fixture(with: [hash + ".json": #"{"accessToken": "t"}"#])
        let typo = "0123456789abcdef0123456789abcdee"
        let result = try fixture.mcpVault(["migrate", "--assign", "\(typo)=https://mcp.example.com/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(result.stderr.contains("note: --assign \(typo)=… matched no file or entry; did you mean \(hash)?"), "\(result)")
        #expect(result.stdout.contains("skipped"), "the file is still waiting for its URL: \(result)")
    }

    /// The first run fails on a file it cannot read (65); a second run that finds only that file,
    /// unchanged, says so and succeeds; a changed file is tried again.
    @Test func aSecondRunFindingOnlyWhatWasRefusedSucceeds() throws {
        let name = "0123456789abcdef0123456789abcdef.json"
        let fixture = try fixture(with: [name: "{"])
        let first = try fixture.mcpVault(["migrate", "--passphrase-file", fixture.passphraseFile])
        #expect(first.status == 65, "\(first)")
        let second = try fixture.mcpVault(["migrate", "--passphrase-file", fixture.passphraseFile])
        #expect(second.status == 0 && second.stdout.contains("Nothing new: migrate refused this file before, and it has not changed."), "\(second)")
        try "{\"accessToken\": 5}".write(toFile: fixture.home.path + "/.config/opencode/mcp-oauth/" + name, atomically: true, encoding: .utf8)
        let third = try fixture.mcpVault(["migrate", "--passphrase-file", fixture.passphraseFile])
        #expect(third.status == 65 && third.stdout.contains("failed"), "a changed file is a new refusal: \(third)")
        let state = try String(contentsOfFile: fixture.home.path + "/.local/state/mcp-vault/migrate-refused", encoding: .utf8)
        #expect(!state.contains("accessToken"), "the memory holds fingerprints, not contents")
    }

    @Test func aDryRunNeverSaysAnythingWasSealed() throws {
        let fixture = try fixture(with: ["0123456789abcdef0123456789abcdef.json": "{", "fedcba9876543210fedcba9876543210.json": #"{"accessToken": "t", "serverUrl": "https://a.example.com/mcp"}"#])
        let result = try fixture.mcpVault(["migrate", "--dry-run", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("cannot be imported") && !result.output.contains("sealed"), "\(result)")
    }
}

@Suite("Messages: short-lived tokens")
struct ShortLivedTokenTests {
    /// Tokens that live 30 s against the default --min-ttl of 60: every call refreshes, the fresh
    /// token is handed out, and the user is told once.
    @Test func tokensShorterThanMinTTLAreHandedOutWithOneWarning() async throws {
        let session = try ServerSession(try await TestAuthorizationServer { $0.accessTokenLifetime = 30 })
        #expect(try await session.login().status == 0)
        let first = try await session.token()
        #expect(first.status == 0 && !first.stdout.isEmpty, "\(first)")
        #expect(first.stderr.contains("issues tokens that live 30 s, less than the 60 s asked for (--min-ttl), so every call refreshes"), "\(first)")
        let second = try await session.token()
        #expect(second.status == 0 && second.stdout != first.stdout, "refreshed again: \(second)")
        #expect(!second.stderr.contains("every call refreshes"), "told once: \(second)")
        let relaxed = try await session.token(["--min-ttl", "10"])
        #expect(relaxed.stdout == second.stdout, "a fitting --min-ttl serves the stored token")
    }
}

@Suite("Messages: help text")
struct HelpTextTests {
    static let commands: [[String]] = [["init"], ["login"], ["logout"], ["status"], ["token"], ["proxy"], ["migrate"], ["setup"], ["unlock"],
                                       ["lock"], ["passphrase", "add"], ["passphrase", "change"], ["passphrase", "remove"],
                                       ["keyring", "add"], ["keyring", "remove"], ["doctor"], ["run"], ["secret"], ["secret", "set"], []]

    /// Piped (as into a pager or a file), every example stays on one line: a broken one cannot
    /// be copied.
    @Test(arguments: commands)
    func examplesAreNotBrokenAcrossLines(_ command: [String]) throws {
        let help = try run(Binaries.mcpVault, command + ["--help"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(help.status == 0, "\(help)")
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        var inExamples = false
        for line in lines {
            if line.hasPrefix("Example") || line.hasPrefix("Get started") { inExamples = true; continue }
            if line.isEmpty { inExamples = false; continue }
            if inExamples { #expect(line.hasPrefix("  "), "\(command): a broken example line: \(line)") }
        }
    }
}

@Suite("Messages: JSON for scripts")
struct JSONOutputTests {
    @Test func statusJSONHasASchemaVersionSortedRecordsAndSecondsToExpiry() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        for host in ["c", "a", "b"] { try storeCredential(fixture, url: "https://\(host).example.com/mcp", expiresIn: 3600) }
        try storeCredential(fixture, url: "https://expired.example.com/mcp", expiresIn: -120)
        let status = try fixture.mcpVault(["status", "--json", "--passphrase-file", fixture.passphraseFile])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status)")
        #expect(object["schema_version"] as? Int == 1)
        let records = try #require(object["records"] as? [[String: Any]])
        let urls = records.compactMap { $0["server_url"] as? String }
        #expect(urls == urls.sorted() && urls.count == 4, "\(urls)")
        let a = try #require(records.first { $0["server_url"] as? String == "https://a.example.com/mcp" })
        #expect((3500...3600).contains(a["expires_in"] as? Int ?? 0), "\(a)")
        let expired = try #require(records.first { $0["server_url"] as? String == "https://expired.example.com/mcp" })
        #expect((expired["expires_in"] as? Int ?? 0) < 0, "\(expired)")
    }

    @Test func doctorJSONHasASchemaVersionAndEveryCheck() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let doctor = try fixture.mcpVault(["doctor", "--json"])
        #expect(doctor.status == 0, "\(doctor)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any], "\(doctor)")
        #expect(object["schema_version"] as? Int == 1 && object["usable"] as? Bool == true && object["writable"] as? Bool == true)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.contains { $0["subject"] as? String == "mcp-vault-oauth" && $0["outcome"] as? String == "ok" }, "\(checks)")
        #expect(checks.allSatisfy { ["ok", "info", "warning", "problem"].contains($0["outcome"] as? String ?? "") })
    }
}
