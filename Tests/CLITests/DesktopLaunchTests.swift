import Foundation
import Testing
import TestSupport

/// `mcp-vault proxy` started the way MCP clients start it, on a desktop as a graphical login
/// leaves it: the official MCP Python SDK's `stdio_client` with its default environment (HOME,
/// LOGNAME, PATH, SHELL, TERM, USER: no bus address, no display), from the entry `setup` wrote,
/// in a private mount namespace whose session bus is at /run/user/UID/bus with gnome-keyring on
/// it (Tests/Peers/desktop_session.py, client_launch.py). The keyring holds the vault's key;
/// nothing else unlocks it.
@Suite("Launched as MCP clients launch it, on a desktop", .serialized)
struct DesktopLaunchTests {
    private static let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"
    private static let peers = Binaries.repositoryRoot + "/Tests/Peers/"

    /// A HOME whose setup script (run inside the session, keyring unlocked) makes a keyring vault,
    /// signs in to `url` as `name`, writes a Claude Desktop entry running mcp-remote for it and
    /// lets `setup claude-desktop` rewrite it.
    private func home(signingIn url: String, as name: String) throws -> (home: TemporaryDirectory, setup: String, config: String) {
        let home = try TemporaryDirectory(prefix: "desktop")
        let config = home.path + "/.config/Claude/claude_desktop_config.json"
        let script = home.file("setup.sh")
        try """
            set -e
            mv='\(Binaries.mcpVault)'
            "$mv" init --keyring >/dev/null
            BROWSER='/usr/bin/curl -sL' "$mv" login '\(url)' --name \(name) >/dev/null
            mkdir -p "$HOME/.config/Claude"
            printf '%s' '{"mcpServers": {"\(name)": {"command": "npx", "args": ["-y", "mcp-remote", "\(url)"]}}}' >'\(config)'
            "$mv" setup claude-desktop >/dev/null
            """.write(toFile: script, atomically: true, encoding: .utf8)
        return (home, "sh " + script, config)
    }

    private func session(_ home: TemporaryDirectory, setup: String, options: [String], scenarios: [String],
                         launch: [String]) async throws -> ProcessResult {
        let arguments = [Self.peers + "desktop_session.py"] + options + ["--setup-command", setup, "--", Self.python,
                         Self.peers + "client_launch.py", "--request-timeout", "60", "--scenario-timeout", "240"]
            + scenarios.flatMap { ["--scenario", $0] } + launch
        // The test bed's own variables stay out: only what a desktop session has.
        return try await runAsync(Self.python, arguments, environment: ["HOME": home.path, "PATH": "/usr/bin:/bin", "USER": "root",
                                                                       "LOGNAME": "root", "SHELL": "/bin/sh", "TERM": "dumb"],
                                  timeout: 600)
    }

    @Test func theSDKsDefaultEnvironmentReachesTheKeyringThroughRunUserBus() async throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let server = try await PythonSDKServer()
        let (home, setup, config) = try home(signingIn: server.mcpURL, as: "peer")
        let result = try await session(home, setup: setup, options: ["--keyring", "unlocked"],
                                       scenarios: ["basic", "cwd-root", "stderr-unread", "no-initialized", "sigterm", "stdin-close"],
                                       launch: ["--server-base", server.base, "--config", config, "--entry", "peer"])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdout.contains("FAIL") && result.stdout.contains("ok   basic: proxy refreshed exactly once"), "\(result)")
    }

    /// The other clients' formats, each written by `setup`, started the same way: the entry the
    /// client would start (TOML, YAML, JSON) serves from the keyring-unlocked vault.
    @Test(arguments: [
        ("codex", ".codex/config.toml", "[mcp_servers.peer]\nurl = \"URL\"\n"),
        ("goose", ".config/goose/config.yaml", "extensions:\n  peer:\n    enabled: true\n    type: streamable_http\n    name: peer\n    uri: URL\n"),
        ("continue", ".continue/config.yaml", "name: a\nversion: 1.0.0\nschema: v1\nmcpServers:\n  - name: peer\n    type: streamable-http\n    url: URL\n"),
        ("windsurf", ".codeium/windsurf/mcp_config.json", #"{"mcpServers": {"peer": {"serverUrl": "URL"}}}"#),
        ("cline", ".cline/data/settings/cline_mcp_settings.json", #"{"mcpServers": {"peer": {"type": "streamableHttp", "url": "URL"}}}"#),
    ])
    func everyClientsRewrittenEntryServesOnTheDesktop(client: String, file: String, content: String) async throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let server = try await PythonSDKServer()
        let home = try TemporaryDirectory(prefix: "desktop")
        let path = home.path + "/" + file
        let script = home.file("setup.sh")
        try """
            set -e
            mv='\(Binaries.mcpVault)'
            "$mv" init --keyring >/dev/null
            BROWSER='/usr/bin/curl -sL' "$mv" login '\(server.mcpURL)' --name peer >/dev/null
            mkdir -p "$(dirname '\(path)')"
            printf '%b' '\(content.replacingOccurrences(of: "URL", with: server.mcpURL).replacingOccurrences(of: "\n", with: "\\n"))' >'\(path)'
            "$mv" setup \(client) >/dev/null
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await session(home, setup: "sh " + script, options: ["--keyring", "unlocked"], scenarios: ["basic"],
                                       launch: ["--server-base", server.base, "--config", path, "--entry", "peer"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(client): \(result)")
    }

    /// A client started from a desktop menu has PATH=/usr/local/bin:/usr/bin:/bin: the entry
    /// `setup` wrote names this program by its full path, and so still starts.
    @Test func theDesktopMenusPathFindsTheCommandSetupWrote() async throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let server = try await PythonSDKServer()
        let (home, setup, config) = try home(signingIn: server.mcpURL, as: "peer")
        let result = try await session(home, setup: setup, options: ["--keyring", "unlocked"], scenarios: ["basic"],
                                       launch: ["--server-base", server.base, "--config", config, "--entry", "peer", "--desktop-menu-path"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(result)")
    }

    /// Claude Desktop starts all its servers at once: ten proxies on a locked keyring ask the
    /// Secret Service for one prompt (gnome-keyring's own dialog, held open by a test prompter),
    /// and every proxy serves once the keyring is unlocked. The display comes from the user's
    /// service manager (a test one on the bus), as the proxies have none.
    @Test func tenProxiesOnALockedKeyringRaiseOnePrompt() async throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let server = try await PythonSDKServer()
        let (home, setup, config) = try home(signingIn: server.mcpURL, as: "peer")
        let result = try await session(home, setup: setup,
                                       options: ["--keyring", "locked", "--prompter", "hold", "--service-manager-env", "DISPLAY=:99"],
                                       scenarios: ["ten-locked"], launch: ["--server-base", server.base, "--config", config, "--entry", "peer"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(result)")
    }

    /// A step-up from a proxy with neither DISPLAY nor BROWSER: the browser is the one the
    /// session's service manager names (here `curl -sL`, which follows the authorization to the
    /// bundled server's approval), and the call goes through after one authorization.
    @Test func aStepUpReachesTheBrowserThroughTheServiceManager() async throws {
        try #require(getuid() == 0, "needs root for a private mount namespace")
        let server = try await TestAuthorizationServer()
        let (home, setup, config) = try home(signingIn: server.mcpURL, as: "demo")
        let result = try await session(home, setup: setup,
                                       options: ["--keyring", "unlocked", "--service-manager-env", "DISPLAY=:99",
                                                 "--service-manager-env", "BROWSER=/usr/bin/curl -sL"],
                                       scenarios: ["step-up-no-display"],
                                       launch: ["--server-base", server.origin, "--config", config, "--entry", "demo"])
        #expect(result.status == 0 && !result.stdout.contains("FAIL"), "\(result)")
        #expect(result.stdout.contains("ok   step-up-no-display: tools/call admin succeeds"), "\(result)")
    }
}
