#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The MCP clients whose configuration `setup` rewrites and `migrate` reads: where each keeps
/// its servers, and how it writes a remote one and a local (stdio) one.
public enum MCPClient: String, CaseIterable, Sendable {
    case opencode
    case claudeDesktop = "claude-desktop"
    case cursor
    case claudeCode = "claude-code"
    case gemini
    case zed
    case vscode
    case windsurf
    case cline
    case codex
    case goose
    case continueDev = "continue"
    case ohMyOpencode = "oh-my-opencode"

    public var displayName: String {
        switch self {
        case .opencode: "opencode"
        case .claudeDesktop: "Claude Desktop"
        case .cursor: "Cursor"
        case .claudeCode: "Claude Code"
        case .gemini: "Gemini CLI"
        case .zed: "Zed"
        case .vscode: "VS Code"
        case .windsurf: "Windsurf"
        case .cline: "Cline"
        case .codex: "Codex"
        case .goose: "Goose"
        case .continueDev: "Continue"
        case .ohMyOpencode: "opencode with oh-my-openagent"
        }
    }

    /// One place a client keeps servers: a file and the path of keys to the servers object in it.
    public struct Location: Sendable, Equatable {
        public let client: MCPClient
        public let path: String
        public let keys: [String]
        /// "global", "project", or "local" (Claude Code's per-project entries in ~/.claude.json).
        public let scope: String

        public var description: String {
            keys.count > 1 ? "\(path) (\(keys.dropLast().joined(separator: " › ")))" : path
        }
    }

    /// Every file this client may read servers from, whether or not it exists: global ones first,
    /// then those of the project in `projectDirectory`.
    public func locations(environment: [String: String], projectDirectory: String) -> [Location] {
        let home = environment["HOME"] ?? ""
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
        let project = projectDirectory.hasSuffix("/") && projectDirectory.count > 1 ? String(projectDirectory.dropLast()) : projectDirectory
        func at(_ path: String, _ keys: [String], _ scope: String) -> Location { Location(client: self, path: path, keys: keys, scope: scope) }
        switch self {
        case .opencode:
            var global = environment["OPENCODE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? config + "/opencode"
            if global.hasSuffix("/") { global.removeLast() }
            var found = ["opencode.json", "opencode.jsonc", "config.json"].map { at(global + "/" + $0, ["mcp"], "global") }
            if let explicit = environment["OPENCODE_CONFIG"], !explicit.isEmpty { found.append(at(explicit, ["mcp"], "global")) }
            return found + ["opencode.json", "opencode.jsonc"].map { at(project + "/" + $0, ["mcp"], "project") }
        case .claudeDesktop:
            return [at(config + "/Claude/claude_desktop_config.json", ["mcpServers"], "global")]
        case .cursor:
            return [at(home + "/.cursor/mcp.json", ["mcpServers"], "global"), at(project + "/.cursor/mcp.json", ["mcpServers"], "project")]
        case .claudeCode:
            let file = environment["CLAUDE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 + "/.claude.json" } ?? home + "/.claude.json"
            return [at(file, ["mcpServers"], "global"), at(file, ["projects", project, "mcpServers"], "local"),
                    at(project + "/.mcp.json", ["mcpServers"], "project")]
        case .gemini:
            return [at(home + "/.gemini/settings.json", ["mcpServers"], "global"), at(project + "/.gemini/settings.json", ["mcpServers"], "project")]
        case .zed:
            return [at(config + "/zed/settings.json", ["context_servers"], "global"), at(project + "/.zed/settings.json", ["context_servers"], "project")]
        case .vscode:
            // VS Code, VS Code Insiders and VSCodium, each with its profiles (User/profiles/<id>/mcp.json).
            var found: [Location] = []
            for product in ["Code", "Code - Insiders", "VSCodium"] {
                let user = config + "/" + product + "/User"
                found.append(at(user + "/mcp.json", ["servers"], "global"))
                let profiles = ((try? FileManager.default.contentsOfDirectory(atPath: user + "/profiles")) ?? []).sorted()
                found += profiles.map { at(user + "/profiles/" + $0 + "/mcp.json", ["servers"], "global") }
            }
            return found + [at(project + "/.vscode/mcp.json", ["servers"], "project")]
        case .windsurf:
            // docs.windsurf.com, "Model Context Protocol": remote servers by `serverUrl` (or `url`).
            return [at(home + "/.codeium/windsurf/mcp_config.json", ["mcpServers"], "global")]
        case .cline:
            // cline/cline src/core/storage (mcp-settings-legacy-migration.ts): ~/.cline/data/settings,
            // moved by CLINE_MCP_SETTINGS_PATH, CLINE_DATA_DIR or CLINE_DIR; the VS Code extension's
            // global storage before it.
            let current: String = if let path = environment["CLINE_MCP_SETTINGS_PATH"], !path.isEmpty { path }
                else if let data = environment["CLINE_DATA_DIR"], !data.isEmpty { data + "/settings/cline_mcp_settings.json" }
                else { (environment["CLINE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cline") + "/data/settings/cline_mcp_settings.json" }
            return [at(current, ["mcpServers"], "global"),
                    at(config + "/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json", ["mcpServers"], "global")]
        case .ohMyOpencode:
            return OhMyOpencode.jsonLocations(environment: environment, projectDirectory: project)
        case .codex, .goose, .continueDev:
            return []  // TOML and YAML: CodexConfig, SkillFile with the Goose dialect, ContinueConfig
        }
    }

    /// The keys of an entry that say where and how to reach the server; a rewritten entry drops
    /// them and keeps every other key.
    var transportKeys: Set<String> {
        switch self {
        case .opencode: ["type", "url", "headers", "oauth", "command"]
        case .gemini: ["httpUrl", "url", "headers", "oauth", "authProviderType", "command", "args", "type"]
        case .claudeDesktop, .cursor, .zed, .vscode, .claudeCode: ["type", "url", "headers", "command", "args"]
        case .ohMyOpencode: ["type", "url", "headers", "oauth", "command", "args"]
        case .windsurf: ["serverUrl", "url", "headers", "command", "args", "type"]
        case .cline: ["type", "url", "headers", "command", "args", "transportType"]
        case .codex, .goose, .continueDev: []
        }
    }
}
