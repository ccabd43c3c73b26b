import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// Secrets that are not OAuth tokens: sealed by `secret set`, handed to a local server by `run`,
/// sent as a header by `proxy` and `token`; never in argv, output or the vault's files.
@Suite("Secrets and run")
struct SecretTests {
    let secret = "sk-" + Canary.token

    /// A vault holding `secret` as api/KEY (given on standard input, as a script would).
    func vaultWithSecret() throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let set = try fixture.mcpVault(["secret", "set", "api/KEY", "--passphrase-file", fixture.passphraseFile], input: secret + "\n")
        #expect(set.status == 0 && set.stdout.contains("Stored the secret api/KEY"), "\(set)")
        #expect(!set.stdout.contains(secret) && !set.stderr.contains(secret))
        return fixture
    }

    @Test func setListRemoveNeverShowTheValue() throws {
        let fixture = try vaultWithSecret()
        let pass = ["--passphrase-file", fixture.passphraseFile]
        // The name is not on disk either: every byte of the vault's files is searched.
        for (path, bytes) in try fixture.snapshot() {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains(secret) && !text.contains("api/KEY"), "\(path)")
        }
        let list = try fixture.mcpVault(["secret", "list"] + pass)
        #expect(list.status == 0 && list.stdout.hasPrefix("api/KEY  set 20") && !list.stdout.contains(secret), "\(list)")
        let json = try fixture.mcpVault(["secret", "list", "--json"] + pass)
        let entries = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(entries?.first?["name"] as? String == "api/KEY" && entries?.first?["value"] == nil, "\(json)")

        // From a file, replacing the value; the file is only read.
        let file = fixture.home.file("value")
        try (secret + "-2\n").write(toFile: file, atomically: true, encoding: .utf8)
        let replaced = try fixture.mcpVault(["secret", "set", "api/KEY", "--from-file", file] + pass)
        #expect(replaced.status == 0 && replaced.stdout.contains("Replaced the value of the secret api/KEY"), "\(replaced)")
        #expect(FileManager.default.fileExists(atPath: file))

        // status counts secrets and lists no server for them; logout --all leaves them.
        let status = try fixture.mcpVault(["status"] + pass)
        #expect(status.status == 0 && status.stdout.contains("No servers stored yet.") && status.stdout.contains("Secrets: 1"), "\(status)")
        let logout = try fixture.mcpVault(["logout", "--all", "--yes", "--local-only"] + pass)
        #expect(logout.status == 0 && logout.stdout.contains("No servers stored"), "\(logout)")
        let damaged = try fixture.mcpVault(["logout", "--damaged"] + pass)
        #expect(damaged.status == 0 && damaged.stdout.contains("No damaged records"), "\(damaged)")

        let typo = try fixture.mcpVault(["secret", "remove", "api/KEX"] + pass)
        #expect(typo.status == 66 && typo.stderr.contains("no secret named api/KEX") && typo.stderr.contains("did you mean api/KEY?"), "\(typo)")
        let removed = try fixture.mcpVault(["secret", "remove", "api/KEY"] + pass)
        let left = try fixture.recordFiles()
        #expect(removed.status == 0 && left.isEmpty, "\(removed)")
    }

    @Test func badValuesAndNamesAreRefusedWithoutStoringAnything() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let empty = try fixture.mcpVault(["secret", "set", "a"] + pass, input: "\n")
        #expect(empty.status == 64 && empty.stderr.contains("the value from standard input is empty"), "\(empty)")
        let badName = try fixture.mcpVault(["secret", "set", "../etc"] + pass, input: "x")
        #expect(badName.status == 64 && badName.stderr.contains("is not a secret name"), "\(badName)")
        let missingFile = try fixture.mcpVault(["secret", "set", "a", "--from-file", "/nonexistent"] + pass)
        #expect(missingFile.status == 64 && missingFile.stderr.contains("cannot read /nonexistent"), "\(missingFile)")
        #expect(try fixture.recordFiles().isEmpty)
    }

    /// `run` puts the secret in the child's environment, never in argv; the child is the same
    /// process (exec), with no descriptor of the vault's left open.
    @Test func runHandsTheSecretToTheCommandOnly() throws {
        let fixture = try vaultWithSecret()
        let report = fixture.home.file("report")
        let script = """
            printf '%s' "$KEY" > \(report).env
            tr '\\0' ' ' < /proc/$$/cmdline > \(report).cmdline
            ls -l /proc/$$/fd > \(report).fds
            echo $$ > \(report).pid
            """
        let result = try fixture.mcpVault(["run", "--env", "KEY=api/KEY", "--passphrase-file", fixture.passphraseFile, "--", "/bin/sh", "-c", script])
        #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")
        #expect(try String(contentsOfFile: report + ".env", encoding: .utf8) == secret)
        let cmdline = try String(contentsOfFile: report + ".cmdline", encoding: .utf8)
        #expect(!cmdline.contains(secret) && cmdline.hasPrefix("/bin/sh -c"), "\(cmdline)")
        // No descriptor of the vault's (its directory, a record, a lock) is left open in the command.
        let descriptors = try String(contentsOfFile: report + ".fds", encoding: .utf8)
        #expect(descriptors.contains(" 0 -> ") && !descriptors.contains(fixture.vaultPath), "\(descriptors)")
        // The passphrase variable does not reach the command either.
        let environment = try fixture.mcpVault(["run", "--env", "KEY=api/KEY", "--", "/usr/bin/env"],
                                               environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        #expect(environment.status == 0 && environment.stdout.contains("KEY=\(secret)\n") && !environment.stdout.contains("MCP_VAULT_PASSPHRASE"), "\(environment)")

        let status = try fixture.mcpVault(["run", "--passphrase-file", fixture.passphraseFile, "--", "/bin/sh", "-c", "exit 7"])
        #expect(status.status == 7, "the command's exit status is run's: \(status)")
    }

    @Test func runFailsBeforeTheCommandStarts() throws {
        let fixture = try vaultWithSecret()
        let marker = fixture.home.file("started")
        let command = ["--", "/bin/sh", "-c", "touch \(marker)"]
        let missing = try fixture.mcpVault(["run", "--env", "KEY=api/KEX", "--passphrase-file", fixture.passphraseFile] + command)
        #expect(missing.status == 66 && missing.stderr.contains("no secret named api/KEX") && missing.stderr.contains("did you mean api/KEY?"), "\(missing)")
        // Locked: no passphrase, no keyring, no session cache, and standard input is not a terminal.
        let locked = try fixture.mcpVault(["run", "--env", "KEY=api/KEY"] + command)
        #expect(locked.status == 77 && locked.stderr.contains("the vault is locked"), "\(locked)")
        let wrong = fixture.home.file("wrong")
        try "wrong passphrase\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let refused = try fixture.mcpVault(["run", "--env", "KEY=api/KEY", "--passphrase-file", wrong] + command)
        #expect(refused.status == 77 && refused.stderr.contains("wrong passphrase"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: marker))

        // The form clients start (no option but --env) is set up without the argument parser: the same checks.
        let missingShort = try fixture.mcpVault(["run", "--env", "KEY=api/KEX"] + command, environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        #expect(missingShort.status == 66 && missingShort.stderr == missing.stderr, "\(missingShort)")
        let notFound = try fixture.mcpVault(["run", "--env", "KEY=api/KEY", "--passphrase-file", fixture.passphraseFile, "--", "no-such-server"])
        #expect(notFound.status == 127 && notFound.stderr.contains("cannot run no-such-server"), "\(notFound)")
        let noCommand = try fixture.mcpVault(["run", "--env", "KEY=api/KEY"])
        #expect(noCommand.status == 64 && noCommand.stderr.contains("give the command to run after --"), "\(noCommand)")
        let badVariable = try fixture.mcpVault(["run", "--env", "1KEY=api/KEY", "--", "true"])
        #expect(badVariable.status == 64 && badVariable.stderr.contains("--env takes VAR=NAME"), "\(badVariable)")
        for result in [missing, locked, refused, notFound] { #expect(!result.stderr.contains(secret)) }
    }

    /// A server with a static key: the proxy sends `Authorization: Bearer {secret:…}` from the
    /// vault instead of an OAuth token, with no login; `token --with-header` prints it for a
    /// headers helper.
    @Test func aStaticKeyReachesTheServerThroughProxyAndToken() async throws {
        let server = try await TestAuthorizationServer()
        // A token the server accepts, got by another vault's login: to this vault it is a plain key.
        let other = try ServerSession(server)
        #expect(try await other.login().status == 0)
        let key = try #require(other.record().tokens?.accessToken)

        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let pass = ["--passphrase-file", fixture.passphraseFile]
        #expect(try fixture.mcpVault(["secret", "set", "demo/Authorization"] + pass, input: "Bearer \(key)").status == 0)

        let plain = try fixture.mcpVault(["proxy", server.mcpURL, "--header", "Authorization: Bearer \(key)"] + pass)
        #expect(plain.status == 64 && plain.stderr.contains("cannot set Authorization in plain text") && !plain.stderr.contains(key), "\(plain)")

        let proxy = try ProxyProcess(server.mcpURL, ["--header", "Authorization: {secret:demo/Authorization}"] + pass, fixture: fixture)
        #expect(proxy.initialize()?["result"] != nil, "\(proxy.stderr)")
        let call = proxy.request(2, "tools/call", #"{"name":"whoami","arguments":{}}"#)
        let text = ((call?["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String
        #expect(text == "alice", "\(String(describing: call)) \(proxy.stderr)")
        proxy.process.closeInput()
        _ = await proxy.process.waitAsync(timeout: 10)
        #expect(!proxy.stderr.contains(key))

        let missing = try fixture.mcpVault(["proxy", server.mcpURL, "--header", "X-Key: {secret:nothing}"] + pass)
        #expect(missing.status == 66 && missing.stderr.contains("no secret named nothing"), "\(missing)")

        let helper = try fixture.mcpVault(["token", server.mcpURL, "--format", "json", "--with-header", "Authorization: {secret:demo/Authorization}",
                                           "--with-header", "X-Team: blue"] + pass)
        let headers = try JSONSerialization.jsonObject(with: Data(helper.stdout.utf8)) as? [String: String]
        #expect(helper.status == 0 && headers == ["Authorization": "Bearer \(key)", "X-Team": "blue"], "\(helper)")
        let wrongFormat = try fixture.mcpVault(["token", server.mcpURL, "--with-header", "X-Team: blue"] + pass)
        #expect(wrongFormat.status == 64 && wrongFormat.stderr.contains("--with-header goes with --format json"), "\(wrongFormat)")
    }
}
