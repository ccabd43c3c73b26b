import ArgumentParser
import CommandSupport
import Credentials
import Vault
#if canImport(Glibc)
import Glibc
#endif

extension MCPVault {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a local MCP server with secrets from the vault in its environment.",
            discussion: """
                Unlocks the vault (session cache, keyring, or --passphrase-file / --passphrase-fd / \
                MCP_VAULT_PASSPHRASE: standard input belongs to the command, so it never asks), puts \
                each secret named by --env into its variable, wipes the vault's key and replaces \
                itself with the command: the same process, standard input and output untouched, no \
                secret on any command line. A missing secret or a locked vault is an error on \
                standard error (exit status 66 or 77) before the command starts; a command that \
                cannot be found exits with 127, one that cannot be run with 126.

                MCP clients start it as a server's command; `mcp-vault setup CLIENT` writes such \
                entries for the secrets it moves into the vault.

                Examples:
                  mcp-vault run --env GITHUB_TOKEN=github/PAT -- github-mcp-server stdio
                  mcp-vault run --env A=api/KEY --env B=db/URL -- ./server --stdio
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .customLong("env"), help: ArgumentHelp("VAR=NAME: set the variable VAR to the vault's secret NAME. Repeatable.", valueName: "var=name"))
        var variables: [String] = []

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
        var command: [String] = []

        /// --env as (variable, secret) pairs, in order.
        var assignments: [(variable: String, secret: String)] {
            variables.map { text in
                let equals = text.firstIndex(of: "=")!
                return (String(text[..<equals]), String(text[text.index(after: equals)...]))
            }
        }

        func validate() throws {
            guard let program = command.first, !program.isEmpty else {
                throw ValidationError("give the command to run after --, e.g. `mcp-vault run --env KEY=name -- server-command`")
            }
            var seen: [String] = []
            for text in variables {
                guard let equals = text.firstIndex(of: "="), Self.isVariableName(text[..<equals]) else {
                    throw ValidationError("--env takes VAR=NAME, VAR a variable name (letters, digits, '_', not starting with a digit)")
                }
                let variable = String(text[..<equals])
                do { try SecretRecord.validate(String(text[text.index(after: equals)...])) } catch { throw ValidationError("--env \(variable): \(error)") }
                guard !seen.contains(variable) else { throw ValidationError("--env sets \(variable) twice") }
                seen.append(variable)
            }
        }

        /// `run --env VAR=NAME … -- COMMAND …`, the form clients start, set up without the
        /// argument parser (as `token SERVER` is: its reflection costs about 2 ms a start); any
        /// other form (another option, `--env=…`, help) is parsed.
        static func withoutOptions(_ arguments: [String]) throws -> Run? {
            guard arguments.first == configuration.commandName, let terminator = arguments.firstIndex(of: "--") else { return nil }
            let options = arguments[1..<terminator]
            guard options.count % 2 == 0 else { return nil }
            var variables: [String] = []
            for index in stride(from: options.startIndex, to: options.endIndex, by: 2) {
                guard options[index] == "--env" else { return nil }
                variables.append(options[index + 1])
            }
            var run = Run()
            run.global = .defaults
            run.unlock = .defaults
            run.variables = variables
            run.command = Array(arguments[(terminator + 1)...])
            try run.global.validate()
            try run.unlock.validate()
            try run.validate()
            return run
        }

        static func isVariableName(_ text: Substring) -> Bool {
            guard let first = text.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
            return text.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }

        func run() throws {
            try reportingErrors {
                var values: [(variable: String, value: String)] = []
                if !assignments.isEmpty {
                    let vault = try unlock.access(global).unlock()
                    for (variable, name) in assignments {
                        values.append((variable, try StoredRecord.secret(name, in: vault).value))
                    }
                    vault.wipeKeys()
                }
                for (variable, value) in values { setenv(variable, value, 1) }
                values.removeAll()
                ProgramExecution.replaceProcess(with: command)
            }
        }
    }
}

/// Replacing this process with another program.
enum ProgramExecution {
    /// Execs `command` (found on PATH unless it names a path) with this process's environment;
    /// returns never: on failure it says why and exits 127 (not found) or 126 (cannot be run),
    /// as env(1) and shells do.
    static func replaceProcess(with command: [String]) -> Never {
        let argv = command.map { strdup($0) } + [nil]
        execvp(command[0], argv)
        let code = errno
        Console.note("mcp-vault: error: cannot run \(Console.printable(command[0])): \(String(cString: strerror(code)))")
        if code == ENOENT {
            Console.note("mcp-vault: hint: a client starts servers with a short PATH; give the command's full path")
        }
        exit(code == ENOENT || code == ENOTDIR ? 127 : 126)
    }
}
