import ArgumentParser
import Logging
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options every command takes.
public struct GlobalOptions: ParsableArguments {
    public init() {}

    /// Every option at its default, as a command line without them gives (for `token SERVER`,
    /// which is set up without the parser).
    public static var defaults: GlobalOptions {
        var options = GlobalOptions()
        options.vaultDirectory = nil
        options.verbose = false
        return options
    }

    @Option(name: .customLong("vault-dir"), help: ArgumentHelp(
        "The vault directory (default: $MCP_VAULT_DIR, else ${XDG_DATA_HOME:-~/.local/share}/mcp-vault).",
        valueName: "dir"))
    public var vaultDirectory: String?

    @Flag(name: .shortAndLong, help: "Log each step to standard error (never a secret).")
    public var verbose = false

    /// The process environment as start-up left it (SessionBus.adopt and EnvironmentSecrets run
    /// before any command reads it), read once from `environ`: ProcessInfo builds a new dictionary
    /// on each call, at a cost `token` feels.
    public var environment: [String: String] { Self.processEnvironment }
    private static let processEnvironment = ProcessEnvironment.variables()

    public var vaultPath: String {
        vaultDirectory ?? VaultDirectory.defaultPath(environment: environment)
    }

    public var logger: Logger {
        LoggingSetup.bootstrapOnce()
        var logger = Logger(label: "mcp-vault")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    /// The Secret Service with the deadline from MCP_VAULT_KEYRING_TIMEOUT (seconds, default 5).
    public var keyring: SecretServiceKeyring {
        let timeout = environment["MCP_VAULT_KEYRING_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil }
        return SecretServiceKeyring(timeout: timeout ?? SecretServiceKeyring.defaultTimeout)
    }
}
