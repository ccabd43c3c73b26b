import Foundation
import Testing
import TestSupport

/// `setup oh-my-opencode`: every place the plugin loads MCP servers from (Claude Code-format
/// files, a Claude Code plugin's .mcp.json, skills' SKILL.md front matter and mcp.json), written
/// from the plugin's source (Tests/Fixtures/oh-my-opencode).
@Suite("oh-my-opencode's own servers")
struct OhMyOpencodeTests {
    private static let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"
    private let linear = "https://mcp.linear.app/mcp"

    /// The fixture in a vault's HOME (the project inside it), the plugin's install path filled in.
    private func prepared() throws -> (fixture: VaultFixture, project: String) {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let source = Binaries.repositoryRoot + "/Tests/Fixtures/oh-my-opencode"
        let manager = FileManager.default
        for item in try manager.contentsOfDirectory(atPath: source + "/home") {
            try manager.copyItem(atPath: source + "/home/" + item, toPath: fixture.home.path + "/" + item)
        }
        try manager.copyItem(atPath: source + "/project", toPath: fixture.home.path + "/project")
        let plugins = fixture.home.path + "/.claude/plugins/installed_plugins.json"
        try String(contentsOfFile: plugins, encoding: .utf8).replacingOccurrences(of: "HOME/", with: fixture.home.path + "/")
            .write(toFile: plugins, atomically: true, encoding: .utf8)
        return (fixture, fixture.home.path + "/project")
    }

    /// Compares each file with its backup: JSON files by value (rewritten entries aside), SKILL.md
    /// front matter by PyYAML's reading of it, the text after it byte for byte. Prints one line
    /// per rewritten entry; exits 1 at the first difference.
    private static let checker = """
        import json, sys, yaml
        def split(text):
            assert text.startswith("---\\n"), "no front matter"
            front, body = text[4:].split("\\n---\\n", 1)
            return yaml.safe_load(front), body
        def servers(document):
            return document.get("mcpServers", document.get("mcp", document))
        for path in sys.argv[1:]:
            old_text, new_text = open(path + ".before-mcp-vault").read(), open(path).read()
            if path.endswith(".md"):
                (old, old_body), (new, new_body) = split(old_text), split(new_text)
                assert old_body == new_body, f"{path}: the text after the front matter changed"
            else:
                old, new = json.loads(old_text), json.loads(new_text)
            old_servers, new_servers = servers(old), servers(new)
            assert {k: v for k, v in old.items() if k not in ("mcpServers", "mcp")} == {k: v for k, v in new.items() if k not in ("mcpServers", "mcp")}, f"{path}: other keys changed"
            assert list(old_servers) == list(new_servers), f"{path}: the entries changed"
            for name, entry in new_servers.items():
                before = old_servers[name]
                if entry == before:
                    continue
                assert "url" in before and "url" not in entry and "oauth" not in entry and "headers" not in entry, f"{path} {name}: {entry}"
                assert entry["command"] == "mcp-vault" and entry["args"][:2] == ["proxy", before["url"]], f"{path} {name}: {entry}"
                assert entry.get("type", "stdio") == "stdio", f"{path} {name}: {entry}"
                kept = {k: v for k, v in before.items() if k not in ("type", "url", "headers", "oauth")}
                assert all(entry[k] == v for k, v in kept.items()), f"{path} {name}: lost {kept}"
                print(f"rewritten {name}")
        """

    @Test func everyRemoteEntryThePluginLoadsBecomesAProxyEntryAndNothingElseChanges() throws {
        let (fixture, project) = try prepared()
        try storeCredential(fixture, url: linear)
        try storeCredential(fixture, url: "https://mcp.linear.app/sse")
        let setup = try fixture.mcpVault(["setup", "oh-my-opencode", "--project", project, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.status == 0, "\(setup)")
        let home = fixture.home.path
        let files = [home + "/.claude.json", home + "/.claude/.mcp.json", project + "/.mcp.json", project + "/.claude/.mcp.json",
                     home + "/.claude/plugins/cache/acme/1.0.0/.mcp.json", home + "/.config/opencode/skills/jsonskill/mcp.json",
                     home + "/.claude/skills/docs/SKILL.md", home + "/.agents/skills/flowy/SKILL.md", project + "/.opencode/skills/proj/SKILL.md"]
        let checked = try run(Self.python, ["-c", Self.checker] + files, environment: [:])
        #expect(checked.status == 0, "\(checked)")
        let rewritten = Set(checked.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: "rewritten ", with: "") })
        #expect(rewritten == ["linear", "linear-user", "team-linear", "linear-claude", "acme-linear", "issues", "tracker", "linear project"],
                "\(checked)")
        // Not in the vault: left alone, with the login to run.
        #expect(setup.stdout.contains("notion: https://mcp.notion.com/mcp is not in the vault") && setup.stdout.contains("wiki: https://mcp.notion.com/mcp is not in the vault"),
                "\(setup)")
        // An SSE entry keeps its transport; a header goes on as --header.
        #expect(try String(contentsOfFile: home + "/.claude/plugins/cache/acme/1.0.0/.mcp.json", encoding: .utf8).contains(#""--transport", "sse""#))
        #expect(try String(contentsOfFile: project + "/.opencode/skills/proj/SKILL.md", encoding: .utf8).contains(#""--header", "X-Team: ENG""#))
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: file + ".before-mcp-vault")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(file)")
        }
        let again = try fixture.mcpVault(["setup", "oh-my-opencode", "--project", project, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(again.stdout.contains("Nothing was changed."), "\(again)")
        #expect(!FileManager.default.fileExists(atPath: home + "/.claude.json.before-mcp-vault.2"), "a second run writes nothing")

        let doctor = try run("/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" doctor", Binaries.mcpVault, project], environment: fixture.environment)
        #expect(doctor.stdout.contains("oh-my-opencode reaches https://mcp.notion.com/mcp by itself and signs in with its own OAuth engine"),
                "\(doctor)")
    }

    /// ~/.claude.json and .mcp.json are Claude Code's too: with the plugin installed, `setup
    /// claude-code` writes the proxy form there (the plugin ignores headersHelper).
    @Test func claudeCodesSharedFilesGetTheProxyWhenThePluginIsInstalled() throws {
        let (fixture, project) = try prepared()
        try storeCredential(fixture, url: linear)
        let setup = try fixture.mcpVault(["setup", "claude-code", "--project", project, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.stdout.contains("oh-my-opencode is installed and reads these files too"), "\(setup)")
        let written = try String(contentsOfFile: project + "/.mcp.json", encoding: .utf8)
        #expect(written.contains(#""command": "mcp-vault""#) && !written.contains("headersHelper"), "\(written)")
    }

    /// Each rewritten entry, started as the plugin starts stdio servers (the official SDK's stdio
    /// transport with the plugin's environment, here the Python SDK's stdio_client), serves
    /// initialize, tools/list and tools/call from the vault's token: one from ~/.claude/.mcp.json,
    /// one from a skill's front matter.
    @Test func theRewrittenEntriesServeAsThePluginStartsThem() async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedInToPeer(server)
        let home = fixture.home.path
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let manager = FileManager.default
        try manager.createDirectory(atPath: home + "/.config/opencode", withIntermediateDirectories: true)
        try #"{"plugin": ["oh-my-opencode@3.2.0"]}"#.write(toFile: home + "/.config/opencode/opencode.json", atomically: true, encoding: .utf8)
        try manager.createDirectory(atPath: home + "/.claude/skills/peer", withIntermediateDirectories: true)
        try #"{"mcpServers": {"peer": {"type": "http", "url": "\#(server.mcpURL)", "oauth": {"scopes": ["mcp"]}}}}"#
            .write(toFile: home + "/.claude/.mcp.json", atomically: true, encoding: .utf8)
        try "---\nname: peer\nmcp:\n  peer:\n    url: \(server.mcpURL)\n    oauth: {}\n---\nA skill.\n"
            .write(toFile: home + "/.claude/skills/peer/SKILL.md", atomically: true, encoding: .utf8)
        // The plugin passes its own environment on (MCP_VAULT_DIR with it), less secrets.
        let setup = try fixture.mcpVault(["setup", "oh-my-opencode", "--project", home, "--passphrase-file", fixture.passphraseFile])
        #expect(setup.status == 0, "\(setup)")
        for config in [home + "/.claude/.mcp.json", home + "/.claude/skills/peer/SKILL.md"] {
            let result = try await runAsync(Self.python, [Binaries.repositoryRoot + "/Tests/Peers/client_launch.py", "--server-base", server.base,
                                                          "--config", config, "--entry", "peer", "--plugin-environment", "--scenario", "basic",
                                                          "--request-timeout", "60"],
                                            environment: fixture.environment.merging(["SOME_API_KEY": "not-for-the-server"]) { $1 })
            #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(config): \(result)")
        }
    }
}
