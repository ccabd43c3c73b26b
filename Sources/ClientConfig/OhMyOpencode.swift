#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Where the oh-my-opencode plugin for opencode (now oh-my-openagent) finds MCP servers, as its
/// source reads them (code-yeongyu/oh-my-openagent 4.19: packages/claude-code-compat-core
/// `claude-code-mcp-loader`, packages/skills-loader-core `opencode-skill-loader`): Claude
/// Code-format files and skills, not `opencode.json`. A remote entry with `oauth` makes the plugin
/// sign in by itself and write a plaintext token under `mcp-oauth/`; it starts stdio entries
/// itself, so `setup` points those entries at `mcp-vault proxy`.
public enum OhMyOpencode {
    /// Whether an opencode configuration lists the plugin: `"plugin": ["oh-my-openagent@latest"]`
    /// (or `oh-my-opencode`, any version, or a `file://` path to a checkout of it).
    public static func isInstalled(environment: [String: String], projectDirectory: String) -> Bool {
        for location in MCPClient.opencode.locations(environment: environment, projectDirectory: projectDirectory) {
            guard let bytes = try? PlainFiles.read(location.path, limit: ConfigFile.sizeLimit),
                  let document = try? JSONCDocument(bytes), let plugins = document.root.node["plugin"]?.node.strings else { continue }
            if plugins.contains(where: names) { return true }
        }
        return false
    }

    static func names(_ plugin: String) -> Bool {
        let lowered = plugin.lowercased()
        let bare = lowered.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? lowered
        if bare == "oh-my-opencode" || bare == "oh-my-openagent" { return true }
        return lowered.hasPrefix("file://") && (lowered.contains("/oh-my-opencode") || lowered.contains("/oh-my-openagent"))
    }

    /// The JSON files the plugin reads servers from, in its order: `~/.claude.json` (top-level
    /// `mcpServers` only), `$CLAUDE_CONFIG_DIR/.mcp.json` or `~/.claude/.mcp.json`, the project's
    /// `.mcp.json` and `.claude/.mcp.json`, each installed Claude Code plugin's `.mcp.json`, and
    /// each skill's `mcp.json`.
    static func jsonLocations(environment: [String: String], projectDirectory project: String) -> [MCPClient.Location] {
        let home = environment["HOME"] ?? ""
        let claudeDirectory = environment["CLAUDE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.claude"
        func at(_ path: String, _ keys: [String], _ scope: String) -> MCPClient.Location {
            MCPClient.Location(client: .ohMyOpencode, path: path, keys: keys, scope: scope)
        }
        var locations = [at(home + "/.claude.json", ["mcpServers"], "global"), at(claudeDirectory + "/.mcp.json", ["mcpServers"], "global"),
                         at(project + "/.mcp.json", ["mcpServers"], "project"), at(project + "/.claude/.mcp.json", ["mcpServers"], "project")]
        locations += pluginDirectories(environment: environment).map { at($0 + "/.mcp.json", ["mcpServers"], "plugin") }
        for skill in skillDirectories(environment: environment, projectDirectory: project) {
            let path = skill.directory + "/mcp.json"
            // `{"mcpServers": {…}}`, or the map itself.
            let wrapped = (try? PlainFiles.read(path, limit: ConfigFile.sizeLimit)).flatMap { try? JSONCDocument($0) }?.root.node["mcpServers"] != nil
            locations.append(at(path, wrapped ? ["mcpServers"] : [], skill.scope))
        }
        return locations
    }

    /// The install directories of Claude Code plugins (`~/.claude/plugins/installed_plugins.json`,
    /// any of its versions: every `installPath` in it).
    static func pluginDirectories(environment: [String: String]) -> [String] {
        let home = environment["HOME"] ?? ""
        let plugins = environment["CLAUDE_PLUGINS_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["CLAUDE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.claude") + "/plugins"
        guard let bytes = try? PlainFiles.read(plugins + "/installed_plugins.json", limit: ConfigFile.sizeLimit),
              let document = try? JSONCDocument(bytes) else { return [] }
        var found: [String] = []
        func visit(_ node: JSONNode) {
            switch node {
            case .object(let members):
                for member in members {
                    if member.key == "installPath", let path = member.value.node.string { found.append(path) } else { visit(member.value.node) }
                }
            case .array(let items): items.forEach { visit($0.node) }
            default: break
            }
        }
        visit(document.root.node)
        return found
    }

    /// Each skill directory (one holding SKILL.md) the plugin searches: `~/.claude/skills`,
    /// `~/.agents/skills`, opencode's configuration directory's `skills` and `skill`, and the
    /// project's `.claude/skills`, `.agents/skills`, `.opencode/skills`, `.opencode/skill` in
    /// every directory from the project up to its git top level.
    public static func skillDirectories(environment: [String: String], projectDirectory: String) -> [(directory: String, scope: String)] {
        let home = environment["HOME"] ?? ""
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
        var roots: [(String, String)] = [(home + "/.claude/skills", "global"), (home + "/.agents/skills", "global")]
        var opencodeDirectories = [config + "/opencode"]
        if let explicit = environment["OPENCODE_CONFIG_DIR"], !explicit.isEmpty { opencodeDirectories.insert(explicit, at: 0) }
        for directory in opencodeDirectories { roots += [(directory + "/skills", "global"), (directory + "/skill", "global")] }
        var directory = projectDirectory
        for _ in 0..<32 {
            roots += [".claude/skills", ".agents/skills", ".opencode/skills", ".opencode/skill"].map { (directory + "/" + $0, "project") }
            if PlainFiles.exists(directory + "/.git") || directory == "/" || directory == home { break }
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
        }
        var seen = Set<String>()
        var skills: [(String, String)] = []
        for (root, scope) in roots where seen.insert(root).inserted {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
            where PlainFiles.exists(root + "/" + name + "/SKILL.md") || PlainFiles.exists(root + "/" + name + "/mcp.json") {
                skills.append((root + "/" + name, scope))
            }
        }
        return skills
    }

    /// Every SKILL.md the plugin would load whose front matter names MCP servers.
    public static func skillFiles(environment: [String: String], projectDirectory: String) -> [Result<SkillFile, SkillReadError>] {
        skillDirectories(environment: environment, projectDirectory: projectDirectory).compactMap { skill in
            let path = skill.directory + "/SKILL.md"
            guard PlainFiles.exists(path) else { return nil }
            do {
                return try SkillFile.read(path).map { .success($0) }
            } catch {
                return .failure(SkillReadError(description: "\(path) cannot be read: \(error)"))
            }
        }
    }

    public struct SkillReadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }
}
