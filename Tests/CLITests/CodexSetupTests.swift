import Foundation
import Testing
import TestSupport

/// `setup codex`: Codex's config.toml, its `[mcp_servers.NAME]` tables rewritten in place.
@Suite("Setup: Codex")
struct CodexSetupTests {
    private static let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"

    private func prepared() throws -> (fixture: VaultFixture, path: String) {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/.codex", withIntermediateDirectories: true)
        let path = fixture.home.path + "/.codex/config.toml"
        try FileManager.default.copyItem(atPath: Binaries.repositoryRoot + "/Tests/Fixtures/clients/codex/home/.codex/config.toml", toPath: path)
        return (fixture, path)
    }

    @Test func theRemoteTableRunsTheProxyAndEveryOtherByteStays() throws {
        let (fixture, path) = try prepared()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp")
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let setup = try fixture.mcpVault(["setup", "codex", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.status == 0, "\(setup)")
        #expect(setup.stdout.contains("linear: gets its token from mcp-vault") && setup.stdout.contains("other: https://mcp.notinvault.example/mcp is not in the vault"),
                "\(setup)")
        let after = try String(contentsOfFile: path, encoding: .utf8)
        // Only linear's transport lines changed: the rest, comments included, line for line.
        let removed = Set(before.split(separator: "\n", omittingEmptySubsequences: false)).subtracting(after.split(separator: "\n", omittingEmptySubsequences: false))
        #expect(removed == [#"url = "https://mcp.linear.app/mcp""#, #"http_headers = { "X-Team" = "ENG", "Authorization" = "Bearer lin_api_codex0123456789" }"#],
                "\(after)")
        #expect(!after.contains("lin_api_codex"), "the static token is gone from the file")
        // Python's own TOML reader (tomllib) reads what Codex would.
        let check = """
            import sys, tomllib
            old, new = (tomllib.load(open(p, "rb")) for p in sys.argv[1:3])
            linear = new["mcp_servers"].pop("linear"); old["mcp_servers"].pop("linear")
            assert linear == {"command": "mcp-vault", "args": ["proxy", "https://mcp.linear.app/mcp", "--header", "X-Team: ENG"],
                              "startup_timeout_sec": 20, "enabled_tools": ["list_issues", "get_issue"]}, linear
            assert old == new, "something else changed"
            """
        let checked = try run(Self.python, ["-c", check, path + ".before-mcp-vault", path], environment: [:])
        #expect(checked.status == 0, "\(checked)")
        let mode = (try FileManager.default.attributesOfItem(atPath: path + ".before-mcp-vault")[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        let again = try fixture.mcpVault(["setup", "codex", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(again.stdout.contains("linear: already gets its token from mcp-vault") && again.stdout.contains("Nothing was changed."), "\(again)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == after)
    }

    /// Headers the proxy's arguments would not carry leave the table alone (a sub-table of
    /// headers, env_http_headers); a url with a comment after it is read.
    @Test func whatTheRewriteWouldNotCarryIsLeftAlone() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp")
        try storeCredential(fixture, url: "https://mcp.notion.com/mcp")
        try storeCredential(fixture, url: "https://mcp.sentry.dev/mcp")
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/.codex", withIntermediateDirectories: true)
        let path = fixture.home.path + "/.codex/config.toml"
        let text = """
            [mcp_servers.linear] # see [docs]
            url = "https://mcp.linear.app/mcp" # the team's
            [mcp_servers.linear.http_headers]
            X-Org = "a"

            [mcp_servers.notion]
            url = "https://mcp.notion.com/mcp"
            env_http_headers = { "X-Key" = "NOTION_KEY" }

            [mcp_servers.sentry]
            url = "https://mcp.sentry.dev/mcp" # kept comment
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let setup = try fixture.mcpVault(["setup", "codex", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.stdout.contains("linear: left alone: it has a [mcp_servers.linear.http_headers] table"), "\(setup)")
        #expect(setup.stdout.contains("notion: left alone: its env_http_headers"), "\(setup)")
        #expect(setup.stdout.contains("sentry: gets its token from mcp-vault"), "\(setup)")
        let after = try String(contentsOfFile: path, encoding: .utf8)
        #expect(after.contains("[mcp_servers.linear] # see [docs]\nurl = \"https://mcp.linear.app/mcp\" # the team's"), "\(after)")
        #expect(after.contains("[mcp_servers.sentry]\ncommand = \"mcp-vault\"\nargs = [\"proxy\", \"https://mcp.sentry.dev/mcp\"]"), "\(after)")
    }

    /// A dry run shows the change with the static token hidden, and writes nothing.
    @Test func aDryRunHidesTheStaticTokenAndWritesNothing() throws {
        let (fixture, path) = try prepared()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp")
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let dry = try fixture.mcpVault(["setup", "codex", "--dry-run", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile])
        #expect(dry.status == 0 && dry.stdout.contains("linear: would get its token from mcp-vault") && dry.stdout.contains("-url = \"https://mcp.linear.app/mcp\""),
                "\(dry)")
        #expect(!dry.output.contains("lin_api_codex"), "\(dry)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".before-mcp-vault"))
    }

    /// The rewritten table, started as a client starts a stdio server (the Python SDK's
    /// stdio_client with its default environment), serves from the vault's token.
    @Test func theRewrittenTableServes() async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedInToPeer(server)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let path = fixture.home.path + "/.codex/config.toml"
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/.codex", withIntermediateDirectories: true)
        try "[mcp_servers.peer]\nurl = \"\(server.mcpURL)\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let setup = try fixture.mcpVault(["setup", "codex", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile])
        #expect(setup.status == 0, "\(setup)")
        // The SDK's default environment has no MCP_VAULT_DIR: the entry's own env names the vault,
        // as a user would write it for a vault outside the default place.
        try (try String(contentsOfFile: path, encoding: .utf8) + "\n[mcp_servers.peer.env]\nMCP_VAULT_DIR = \"\(fixture.vaultPath)\"\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await runAsync(Self.python, [Binaries.repositoryRoot + "/Tests/Peers/client_launch.py", "--server-base", server.base,
                                                      "--config", path, "--entry", "peer", "--scenario", "basic", "--request-timeout", "60"],
                                        environment: ["HOME": fixture.home.path, "PATH": "/usr/bin:/bin"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(result)")
    }
}
