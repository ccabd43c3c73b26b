import ClientConfig
import CommandSupport
import Credentials
import Vault

/// The entries of configurations that are not JSON: oh-my-opencode's skills (SKILL.md front
/// matter) and Codex's config.toml.
extension MCPVault.Setup {
    func setUpLines<File: LineEditedConfig>(_ files: [Result<File, any Error>], vault: inout Vault?, command: String,
                                           tally: inout Tally) throws {
        for result in files {
            let file: File
            switch result {
            case .failure(let error):
                Console.out("\(error)")
                tally.problems += 1
                continue
            case .success(let read):
                file = read
            }
            Console.out(file.path + (file.path.hasSuffix(".md") ? " (front matter):" : ":"))
            for problem in file.problems {
                Console.out("  \(problem)")
                tally.problems += 1
            }
            var chosen: [(entry: File.Entry, arguments: [String])] = []
            for entry in file.entries {
                guard let remote = entry.remote else {
                    if entry.runsMCPVault {
                        tally.vaultSeen = true
                        Console.out("  \(entry.name): already gets its token from mcp-vault")
                    }
                    continue
                }
                tally.remoteSeen = true
                guard let server = try? ServerURL(remote.url) else {
                    Console.out("  \(entry.name): \(Self.displayed(remote.url)) is not a server URL mcp-vault can use; left alone")
                    tally.problems += 1
                    continue
                }
                guard try holds(server, signingInAs: entry.name, vault: &vault) else {
                    Console.out("  \(entry.name): \(Self.displayed(server.canonical)) is not in the vault; left alone (sign in with "
                                + "`mcp-vault login \(Self.displayed(server.canonical))`, or run setup again with --login)")
                    continue
                }
                if let refusal = file.refusal(for: entry) {
                    Console.out("  \(entry.name): left alone: \(refusal)")
                    tally.problems += 1
                    continue
                }
                chosen.append((entry, ConfigRewrite.proxyArguments(remote)))
            }
            guard !chosen.isEmpty else { continue }
            let edits = file.edits(chosen, command: command)
            let newBytes = file.applying(edits)
            guard file.verified(newBytes, rewritten: Set(chosen.map(\.entry.name))) else {
                Console.out("  the rewritten front matter did not read back as expected; the file was left alone")
                tally.problems += 1
                continue
            }
            if dryRun {
                for (entry, _) in chosen { Console.out("  \(entry.name): would get its token from mcp-vault") }
                Console.out(UnifiedDiff.make(old: file.bytes, edits: edits, path: file.path).split(separator: "\n")
                    .map { Self.hidingSecrets(String($0)) }.joined(separator: "\n"))
                continue
            }
            let backup: String
            do {
                backup = try ConfigRewrite.write(path: file.path, realPath: file.realPath, permissions: file.permissions, old: file.bytes, new: newBytes)
            } catch {
                throw SetupError.cannotWrite(file.path, reason: "\(error)")
            }
            for (entry, _) in chosen { Console.out("  \(entry.name): gets its token from mcp-vault") }
            tally.written += 1
            Console.out("  written; the file as it was is kept as \(backup)")
        }
    }
}
