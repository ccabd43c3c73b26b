import Foundation
import Testing
import TestSupport

/// What `setup` writes must start when a client starts it: with the PATH of a desktop session
/// (/usr/local/bin:/usr/bin:/bin), which need not hold the directory mcp-vault was installed in;
/// `doctor` checks every entry that runs mcp-vault; `token` run as Claude Code's headersHelper
/// hands a token only to the server it belongs to.
@Suite("How clients start mcp-vault", .serialized)
struct ClientLaunchTests {
    private let url = "https://mcp.linear.app/mcp"

    private func claudeDesktop(_ fixture: VaultFixture, servers: [String: Any]) throws -> String {
        let directory = fixture.home.path + "/.config/Claude"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/claude_desktop_config.json"
        try JSONSerialization.data(withJSONObject: ["mcpServers": servers], options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func entry(_ path: String, _ name: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return try #require((object?["mcpServers"] as? [String: Any])?[name] as? [String: Any])
    }

    private var realMCPVault: String { URL(fileURLWithPath: Binaries.mcpVault).resolvingSymlinksInPath().path }

    @Test func setupWritesTheFullPathWhenTheDefaultPathDoesNotFindThisProgram() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: url)
        let config = try claudeDesktop(fixture, servers: ["linear": ["command": "npx", "args": ["-y", "mcp-remote", url]]])
        // The test's own PATH finds this mcp-vault: a shell's would, a desktop menu's would not.
        let result = try fixture.mcpVault(["setup", "claude-desktop", "--passphrase-file", fixture.passphraseFile],
                                          environment: ["PATH": (Binaries.mcpVault as NSString).deletingLastPathComponent + ":/usr/bin:/bin"])
        #expect(result.status == 0, "\(result)")
        let linear = try entry(config, "linear")
        #expect(linear["command"] as? String == realMCPVault, "\(linear)")
        #expect(linear["args"] as? [String] == ["proxy", url], "\(linear)")
    }

    /// In /usr/local/bin (a private mount namespace puts it there), the bare name is written.
    @Test func setupWritesTheBareNameWhenTheProgramIsInTheDefaultPath() throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: url)
        let config = try claudeDesktop(fixture, servers: ["linear": ["command": "npx", "args": ["-y", "mcp-remote", url]]])
        let script = """
            mount -t tmpfs tmpfs /usr/local/bin && ln -s "$1" /usr/local/bin/mcp-vault && ln -s "$2" /usr/local/bin/mcp-vault-oauth \
            && /usr/local/bin/mcp-vault setup claude-desktop --passphrase-file "$3"
            """
        let result = try run("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                                                  realMCPVault, (realMCPVault as NSString).deletingLastPathComponent + "/mcp-vault-oauth", fixture.passphraseFile],
                             environment: fixture.environment)
        #expect(result.status == 0, "\(result)")
        #expect(try entry(config, "linear")["command"] as? String == "mcp-vault")
    }

    @Test func doctorChecksEveryEntryThatRunsMCPVaultAsTheClientStartsIt() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let old = fixture.home.path + "/old"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        try writeExecutable("#!/bin/sh\necho 0.1.0\n", to: old + "/mcp-vault")
        _ = try claudeDesktop(fixture, servers: [
            "good": ["command": realMCPVault, "args": ["proxy", url]],
            "bare": ["command": "mcp-vault", "args": ["proxy", "https://bare.example.com/mcp"]],
            "older": ["command": old + "/mcp-vault", "args": ["proxy", "https://older.example.com/mcp"]],
        ])
        let result = try fixture.mcpVault(["doctor"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func line(_ name: String) -> String? { lines.first { $0.contains("claude-desktop \(name)") } }
        #expect(line("good")?.hasPrefix("[ok]") == true && line("good")?.contains(realMCPVault) == true, "\(result)")
        if !FileManager.default.isExecutableFile(atPath: "/usr/local/bin/mcp-vault") && !FileManager.default.isExecutableFile(atPath: "/usr/bin/mcp-vault") {
            #expect(line("bare")?.hasPrefix("[warning]") == true && line("bare")?.contains("`mcp-vault` is not found") == true, "\(result)")
        }
        #expect(line("older")?.hasPrefix("[warning]") == true && line("older")?.contains("is version 0.1.0") == true, "\(result)")
        #expect(result.stdout.contains("set its command to \(realMCPVault)"), "the fix is named: \(result)")
        #expect(result.status == 0, "entries are warnings; the vault itself is usable: \(result)")
    }

    @Test func aHeadersHelperNamingAnotherServerThanClaudeCodesURLGetsNoToken() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: url, token: "victim-token-canary")
        let helper = "\(realMCPVault) token \(url) --format json --passphrase-file \(fixture.passphraseFile)"
        // Claude Code runs the helper through a shell, with its own environment and the entry's url.
        let stolen = try run("/bin/sh", ["-c", helper], environment: fixture.environment.merging([
            "CLAUDE_CODE_MCP_SERVER_NAME": "attacker", "CLAUDE_CODE_MCP_SERVER_URL": "https://attacker.example/mcp"]) { $1 })
        #expect(stolen.status == 77, "\(stolen)")
        #expect(!stolen.output.contains("victim-token-canary"), "\(stolen)")
        #expect(stolen.stderr.contains("https://attacker.example/mcp") && stolen.stderr.contains("headersHelper"), "\(stolen)")

        let own = try run("/bin/sh", ["-c", helper], environment: fixture.environment.merging([
            "CLAUDE_CODE_MCP_SERVER_NAME": "linear", "CLAUDE_CODE_MCP_SERVER_URL": "https://MCP.linear.app/mcp/other"]) { $1 })
        #expect(own.status == 0 && own.stdout.contains("victim-token-canary"), "same origin, another path: \(own)")
    }
}
