import Foundation
import Testing
import TestSupport

/// The manual page and the shell completions come from the argument parser itself, so they list
/// the real options of every command (login, logout and proxy included, which mcp-vault hands
/// to mcp-vault-oauth), and the stored servers complete.
@Suite("Manual page and shell completions")
struct ManualAndCompletionTests {
    private var binaries: String { String(Binaries.mcpVault.dropLast("/mcp-vault".count)) }

    /// What bash's completion offers for `line` (the cursor at its end), with the generated script loaded.
    private func complete(_ line: String, environment: [String: String] = [:]) throws -> [String] {
        let script = try run(Binaries.mcpVault, ["--generate-completion-script", "bash"], environment: [:])
        try #require(script.status == 0, "\(script)")
        let file = try TemporaryDirectory(prefix: "completion")
        try script.stdout.write(toFile: file.path + "/mcp-vault.bash", atomically: true, encoding: .utf8)
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }
        if words.isEmpty { words = ["''"] }
        let driver = """
            source '\(file.path)/mcp-vault.bash'
            COMP_WORDS=(\(words.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            _mcp-vault mcp-vault "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try run("/bin/bash", ["-c", driver], environment: environment.merging(["PATH": binaries + ":/usr/bin:/bin"]) { $1 })
        #expect(result.status == 0, "\(result)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesCommandsAndTheOptionsOfEveryCommand() throws {
        #expect(try complete("mcp-vault to") == ["token"])
        let login = try complete("mcp-vault login --cl")
        #expect(login.contains("--client-id") && login.contains("--client-secret-file"), "\(login)")
        #expect(try complete("mcp-vault proxy --ign").contains("--ignore-tool"))
        #expect(try complete("mcp-vault logout --").contains("--yes"))
        #expect(try complete("mcp-vault setup ").contains("claude-desktop"))
    }

    @Test func bashCompletesStoredServerNamesWhenTheVaultIsUnlocked() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://mcp.linear.app/mcp", name: "linear")
        #expect(try fixture.mcpVault(["unlock", "--for", "1m", "--passphrase-file", fixture.passphraseFile]).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let names = try complete("mcp-vault token li", environment: fixture.environment)
        #expect(names == ["linear"], "\(names)")
        // Locked: nothing, and no prompt.
        _ = try fixture.mcpVault(["lock"])
        #expect(try complete("mcp-vault token li", environment: fixture.environment).isEmpty)
    }

    @Test(arguments: [("zsh", "#compdef mcp-vault"), ("fish", "complete -c 'mcp-vault'")])
    func zshAndFishScriptsAreGenerated(shell: String, marker: String) throws {
        let script = try run(Binaries.mcpVault, ["--generate-completion-script", shell], environment: [:])
        #expect(script.status == 0 && script.stdout.contains(marker) && script.stdout.contains("client-id"), "\(script.stdout.prefix(400))")
    }

    @Test func theManualPageRendersWithoutWarningsAndListsEveryCommand() throws {
        let page = try run("/usr/bin/python3", [Binaries.repositoryRoot + "/scripts/manual", Binaries.mcpVault], environment: ["PATH": "/usr/bin:/bin"])
        #expect(page.status == 0, "\(page)")
        let file = try TemporaryDirectory(prefix: "manual")
        try page.stdout.write(toFile: file.path + "/mcp-vault.1", atomically: true, encoding: .utf8)
        let rendered = try run("/usr/bin/man", ["--warnings", "-E", "UTF-8", "-l", file.path + "/mcp-vault.1"],
                               environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"])
        #expect(rendered.status == 0 && rendered.stderr.isEmpty, "\(rendered.stderr)")
        for command in ["init", "login", "logout", "status", "token", "proxy", "migrate", "setup", "unlock", "passphrase change", "doctor"] {
            #expect(rendered.stdout.contains("\n   \(command)\n"), "no section for \(command)")
        }
        #expect(rendered.stdout.contains("--client-id") && rendered.stdout.contains("--ignore-tool"), "login's and proxy's own options")
    }
}
