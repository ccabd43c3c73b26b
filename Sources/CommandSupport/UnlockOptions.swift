import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Credentials
import Vault

/// How a command may unlock the vault: session cache, then keyring, then passphrase.
public struct UnlockOptions: ParsableArguments {
    public init() {}

    /// Every option at its default, as a command line without them gives (for `token SERVER`,
    /// which is set up without the parser).
    public static var defaults: UnlockOptions {
        var options = UnlockOptions()
        options.passphraseFile = nil
        options.passphraseDescriptor = nil
        options.noKeyring = false
        return options
    }

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the vault passphrase from the first line of this file.", valueName: "file"))
    public var passphraseFile: String?

    @Option(name: .customLong("passphrase-fd"), help: ArgumentHelp(
        "Read the vault passphrase from this open file descriptor (for example 3 with `3<file`).", valueName: "n"))
    public var passphraseDescriptor: Int32?

    @Flag(name: .customLong("no-keyring"), help: "Do not use the desktop keyring; unlock with the session cache or the passphrase.")
    public var noKeyring = false

    public func validate() throws {
        if passphraseFile != nil && passphraseDescriptor != nil {
            throw ValidationError("Give --passphrase-file or --passphrase-fd, not both.")
        }
        if let descriptor = passphraseDescriptor, descriptor < 0 {
            throw ValidationError("--passphrase-fd takes a file descriptor number, 0 or more.")
        }
        if let passphraseFile, !FileManager.default.fileExists(atPath: passphraseFile) {
            throw ValidationError("--passphrase-file \(passphraseFile): no such file")
        }
    }

    /// The passphrase: from the file, the descriptor, MCP_VAULT_PASSPHRASE, or a terminal prompt.
    public var passphraseSource: PassphraseSource {
        PassphraseSource(file: passphraseFile, descriptor: passphraseDescriptor,
                         environment: EnvironmentSecrets.passphrase, environmentName: EnvironmentSecrets.passphraseVariable)
    }

    /// `sessionCache` false makes the keyring or the passphrase prove themselves (`unlock`).
    public func access(_ global: GlobalOptions, keyring: Bool = true, sessionCache: Bool = true) -> VaultAccess {
        let source = passphraseSource
        let path = global.vaultPath
        var sources = UnlockSources(
            sessionCache: sessionCache,
            keyring: noKeyring || !keyring ? nil : global.keyring,
            passphrase: { try source.read(prompt: "Passphrase for the vault at \(path): ") })
        if !source.isGiven && PassphraseInput.canPrompt {
            // Typed at a terminal: two more tries after a wrong one.
            sources.passphraseAttempts = 3
            sources.wrongPassphrase = { left in Console.note("Wrong passphrase; \(left) more tr\(left == 1 ? "y" : "ies").") }
        }
        if Console.isTerminal(2) {
            sources.deriving = { started in Console.progress(started ? "Unlocking the vault (deriving the passphrase key)…" : nil) }
        }
        // A locked desktop keyring is unlocked through its own prompt when someone may see it: a
        // terminal, a display, or the graphical session that the user's service manager knows of
        // (an MCP client starts us without DISPLAY). Without any it fails at once, as before.
        let environment = global.environment
        let atTerminal = Console.isTerminal(0) || Console.isTerminal(2)
        let seconds = environment["MCP_VAULT_KEYRING_PROMPT_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 60
        sources.keyringUnlockPrompt = seconds
        sources.keyringPromptVisible = { atTerminal || DesktopSession.hasDisplay(DesktopSession.completing(environment)) }
        sources.promptingForKeyring = { Console.note("The desktop keyring is locked; unlock it in the prompt on your screen (waiting up to \(Int(seconds)) s)…") }
        return VaultAccess(path: path, sources: sources, logger: global.logger)
    }
}

/// Options for commands that set a new passphrase.
public struct NewPassphraseOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp(
        "Read the new passphrase from the first line of this file.", valueName: "file"))
    public var file: String?

    @Option(name: .customLong("new-passphrase-fd"), help: ArgumentHelp(
        "Read the new passphrase from this open file descriptor.", valueName: "n"))
    public var descriptor: Int32?

    @Option(help: ArgumentHelp(
        "Argon2id cost of the passphrase slot: interactive (64 MiB), moderate (256 MiB), sensitive (1 GiB).",
        valueName: "cost"))
    public var cost: PassphraseCostArgument = .moderate

    public func validate() throws {
        if file != nil && descriptor != nil {
            throw ValidationError("Give --new-passphrase-file or --new-passphrase-fd, not both.")
        }
    }

    public var source: PassphraseSource {
        PassphraseSource(file: file, descriptor: descriptor,
                         environment: EnvironmentSecrets.newPassphrase, environmentName: EnvironmentSecrets.newPassphraseVariable)
    }
}

public enum PassphraseCostArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    case interactive, moderate, sensitive

    public var cost: PassphraseCost { PassphraseCost(rawValue: rawValue)! }
}
