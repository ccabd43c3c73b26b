import ArgumentParser
import Credentials
#if canImport(Glibc)
import Glibc
#endif
import Vault

/// Where one passphrase comes from: a file, a descriptor, an opt-in environment variable or the
/// terminal, in that order. Never argv.
public struct PassphraseSource: Sendable {
    public var file: String?
    public var descriptor: Int32?
    public var environment: SecureBytes?
    public var environmentName: String

    public init(file: String?, descriptor: Int32?, environment: SecureBytes?, environmentName: String) {
        self.file = file
        self.descriptor = descriptor
        self.environment = environment
        self.environmentName = environmentName
    }

    /// Whether a passphrase was given other than by the terminal.
    public var isGiven: Bool { file != nil || descriptor != nil || environment != nil }

    public func read(prompt: String) throws -> SecureBytes {
        if let file { return try PassphraseInput.read(file: file) }
        if let descriptor { return try PassphraseInput.read(descriptor: descriptor) }
        if let environment {
            guard environment.count > 0 else { throw VaultError.emptyPassphrase }
            guard environment.count <= PassphraseInput.maximumLength else {
                throw VaultError.passphraseUnavailable(reason: "\(environmentName) is longer than \(PassphraseInput.maximumLength) bytes, the longest passphrase there is")
            }
            return environment
        }
        guard PassphraseInput.canPrompt else {
            throw VaultError.passphraseUnavailable(
                reason: "standard input is not a terminal, and neither --passphrase-file, --passphrase-fd nor \(environmentName) was given")
        }
        return try PassphraseInput.prompt(prompt)
    }

    /// A new passphrase; typed twice when it comes from the terminal.
    public func readNew(prompt: String) throws -> SecureBytes {
        let interactive = !isGiven
        let passphrase = try read(prompt: prompt)
        guard passphrase.count > 0 else { throw VaultError.emptyPassphrase }
        if interactive {
            let again = try PassphraseInput.prompt("Repeat it: ")
            guard again.constantTimeEquals(passphrase) else { throw CLIError.passphrasesDiffer }
        }
        return passphrase
    }
}

/// Secrets taken out of the environment at start-up, before anything could inherit them.
public enum EnvironmentSecrets {
    public static let passphraseVariable = "MCP_VAULT_PASSPHRASE"
    public static let newPassphraseVariable = "MCP_VAULT_NEW_PASSPHRASE"

    public static let passphrase: SecureBytes? = PassphraseInput.takeFromEnvironment(passphraseVariable)
    public static let newPassphrase: SecureBytes? = PassphraseInput.takeFromEnvironment(newPassphraseVariable)

    /// Reads both variables now and removes them from the process environment.
    public static func capture() {
        _ = passphrase
        _ = newPassphrase
    }
}

/// How both programs start: harden the process, take secrets out of the environment, then parse
/// and run the command (errors exit with their documented status).
public enum CommandLineProgram {
    /// For a root whose commands all run synchronously (mcp-vault): no Swift concurrency runtime
    /// and no Dispatch threads are started, which keeps `token` and `status` quick.
    /// `shortcut` may recognise a form of the arguments and return its command, ready to run,
    /// instead of the argument parser (its errors are reported as the parser's would be).
    public static func run<Root: ParsableCommand>(_ root: Root.Type, shortcut: ([String]) throws -> ParsableCommand? = { _ in nil }) {
        prepare(Root.self)
        do {
            var command: ParsableCommand
            if let recognised = try shortcut(Array(CommandLine.arguments.dropFirst())) {
                command = recognised
            } else {
                rejectUnknownCommand(Root.self)
                command = try Root.parseAsRoot()
            }
            try command.run()
        } catch {
            fail(Root.self, error)
        }
    }

    public static func run<Root: AsyncParsableCommand>(_ root: Root.Type) async {
        prepare(Root.self)
        rejectUnknownCommand(Root.self)
        do {
            var command = try Root.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            fail(Root.self, error)
        }
    }

    private static func prepare<Root: ParsableCommand>(_ root: Root.Type) {
        ProcessHardening.apply()
        SessionBus.adopt()  // before any thread: it may set DBUS_SESSION_BUS_ADDRESS
        EnvironmentSecrets.capture()
    }

    private static func fail<Root: ParsableCommand>(_ root: Root.Type, _ error: any Error) -> Never {
        // Usage errors in the same form as every other error: `mcp-vault: error: …`.
        if Root.exitCode(for: error) == .validationFailure {
            let message = Root.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            Console.note("mcp-vault: error: " + message.replacingPrefix("Error: ", with: ""))
            let command = CommandLine.arguments.dropFirst().first { !$0.hasPrefix("-") }
                .flatMap { name in Root.configuration.subcommands.contains { $0._commandName == name } ? name : nil }
            Console.note("mcp-vault: hint: `mcp-vault \(command.map { $0 + " " } ?? "")--help` shows the usage")
            exit(ExitStatus.usage.rawValue)
        }
        Root.exit(withError: error)
    }

    /// `mcp-vault tokn URL` and `mcp-vault help tokn`: name the nearest command rather than
    /// complain of unexpected arguments or print the top-level help.
    static func rejectUnknownCommand<Root: ParsableCommand>(_ root: Root.Type) {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "help" { arguments.removeFirst() }
        guard let typed = arguments.first, !typed.hasPrefix("-"),
              !root.configuration.subcommands.contains(where: { $0._commandName == typed }) else { return }
        let commands = root.configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
        let suggestion = Nearest.match(typed, among: commands).map { "; did you mean '\($0)'?" } ?? ""
        Console.note("mcp-vault: error: '\(typed)' is not an mcp-vault command\(suggestion)")
        Console.note("mcp-vault: hint: `mcp-vault --help` lists the commands: \(commands.joined(separator: ", "))")
        exit(ExitStatus.usage.rawValue)
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
