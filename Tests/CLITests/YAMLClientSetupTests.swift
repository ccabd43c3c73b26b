import Foundation
import Testing
import TestSupport

/// `setup goose` (~/.config/goose/config.yaml, an `extensions:` map) and `setup continue`
/// (~/.continue/config.yaml and a project's .continue/mcpServers/*.yaml, `mcpServers:` lists):
/// only the entry's lines change, as PyYAML reads the files; the rewritten entries serve.
@Suite("Setup: Goose and Continue")
struct YAMLClientSetupTests {
    private static let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"

    /// Compares a file with its backup as PyYAML reads them: the entry NAME (a map key, or a list
    /// item's name) runs `mcp-vault proxy URL`; everything else is equal. Prints the new entry.
    private static let checker = """
        import json, sys, yaml
        path, name, url = sys.argv[1:4]
        old, new = yaml.safe_load(open(path + ".before-mcp-vault")), yaml.safe_load(open(path))
        def take(document):
            if "extensions" in document:
                return document["extensions"].pop(name)
            servers = document["mcpServers"]
            item = next(i for i in servers if i["name"] == name)
            servers.remove(item)
            return item
        before, after = take(old), take(new)
        assert old == new, "something else changed"
        command = after.get("cmd", after.get("command"))
        assert command == "mcp-vault" and after["args"][:2] == ["proxy", url], after
        assert "uri" not in after and "url" not in after and "headers" not in after and "requestOptions" not in after, after
        print(json.dumps(after, sort_keys=True))
        """

    private func prepared(_ client: String) throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let source = Binaries.repositoryRoot + "/Tests/Fixtures/clients/" + client
        for part in ["home", "project"] where FileManager.default.fileExists(atPath: source + "/" + part) {
            for item in try FileManager.default.contentsOfDirectory(atPath: source + "/" + part) {
                try FileManager.default.copyItem(atPath: source + "/" + part + "/" + item,
                                                 toPath: fixture.home.path + (part == "project" ? "/project/" : "/") + item)
            }
        }
        return fixture
    }

    @Test(arguments: [
        ("goose", ".config/goose/config.yaml", "linear", "https://mcp.linear.app/mcp"),
        ("continue", ".continue/config.yaml", "linear", "https://mcp.linear.app/mcp"),
        ("continue", "project/.continue/mcpServers/linear.yaml", "linear-project", "https://mcp.linear.app/sse"),
    ])
    func onlyTheEntryChanges(client: String, file: String, entry: String, url: String) throws {
        let fixture = try prepared(client)
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/project", withIntermediateDirectories: true)
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp")
        try storeCredential(fixture, url: "https://mcp.linear.app/sse")
        let setup = try fixture.mcpVault(["setup", client, "--project", fixture.home.path + "/project", "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.status == 0 && setup.stdout.contains("\(entry): gets its token from mcp-vault"), "\(setup)")
        let path = fixture.home.path + "/" + file
        let checked = try run(Self.python, ["-c", Self.checker, path, entry, url], environment: [:])
        #expect(checked.status == 0, "\(checked)")
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("lin_api_"), "the static token is gone")
        let mode = (try FileManager.default.attributesOfItem(atPath: path + ".before-mcp-vault")[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        let again = try fixture.mcpVault(["setup", client, "--project", fixture.home.path + "/project", "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(again.stdout.contains("\(entry): already gets its token from mcp-vault"), "\(again)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == written, "a second run changes nothing")
    }

    /// The rewritten entries, started with the Python SDK's stdio_client and its default
    /// environment, serve from the vault's token.
    @Test(arguments: ["goose", "continue"])
    func theRewrittenEntryServes(client: String) async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedInToPeer(server)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let (path, text) = client == "goose"
            ? (fixture.home.path + "/.config/goose/config.yaml",
               "extensions:\n  peer:\n    enabled: true\n    type: streamable_http\n    name: peer\n    uri: \(server.mcpURL)\n    envs:\n      MCP_VAULT_DIR: \(fixture.vaultPath)\n")
            : (fixture.home.path + "/.continue/config.yaml",
               "name: a\nversion: 1.0.0\nschema: v1\nmcpServers:\n  - name: peer\n    type: streamable-http\n    url: \(server.mcpURL)\n    env:\n      MCP_VAULT_DIR: \(fixture.vaultPath)\n")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let setup = try fixture.mcpVault(["setup", client, "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile])
        #expect(setup.status == 0, "\(setup)")
        let result = try await runAsync(Self.python, [Binaries.repositoryRoot + "/Tests/Peers/client_launch.py", "--server-base", server.base,
                                                      "--config", path, "--entry", "peer", "--scenario", "basic", "--request-timeout", "60"],
                                        environment: ["HOME": fixture.home.path, "PATH": "/usr/bin:/bin"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(result)")
    }
}

/// `setup vscode` reaches VS Code Insiders', VSCodium's and every profile's mcp.json as well.
@Suite("Setup: VS Code's variants and profiles")
struct VSCodeVariantsTests {
    @Test func insidersVSCodiumAndProfilesAreRewrittenToo() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp")
        let sample = Binaries.repositoryRoot + "/Tests/Fixtures/clients/vscode/home/.config/Code/User/mcp.json"
        let places = ["Code - Insiders/User", "VSCodium/User", "Code/User/profiles/1a2b3c4d"].map { fixture.home.path + "/.config/" + $0 }
        for place in places {
            try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: sample, toPath: place + "/mcp.json")
        }
        let setup = try fixture.mcpVault(["setup", "vscode", "--project", fixture.home.path, "--passphrase-file", fixture.passphraseFile,
                                          "--command", "mcp-vault"])
        #expect(setup.status == 0, "\(setup)")
        for place in places {
            let servers = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: place + "/mcp.json"))) as? [String: Any])?["servers"] as? [String: Any])
            let linear = try #require(servers["linear"] as? [String: Any])
            #expect(linear["command"] as? String == "mcp-vault" && linear["type"] as? String == "stdio", "\(place): \(linear)")
        }
    }
}
