import Synchronization
import ArgumentParser
import Credentials
import Logging
import Vault
#if canImport(Glibc)
import Glibc
#endif

/// An error from a library this module does not know (the OAuth engine, say) that can say which
/// documented exit status it means, and give a hint.
public protocol ExitStatusProviding: Error {
    var exitStatus: ExitStatus { get }
    var hint: String? { get }
}

/// Errors of the command-line layer itself.
public enum CLIError: Error, CustomStringConvertible {
    case passphrasesDiffer
    case keyringRequired(KeyringError)
    case statusIncomplete(unreadable: Int)
    case vaultUnusable
    case migrationIncomplete(failed: Int, dryRun: Bool)
    case noValidToken(server: String, reason: String)
    case outputFailed(reason: String)
    case noNewPassphrase(reason: String)
    case helperForAnotherServer(asked: String, named: String)

    public var description: String {
        switch self {
        case .passphrasesDiffer: "the two passphrases differ"
        case .keyringRequired(let error): "the keyring cannot be used: \(error)"
        case .statusIncomplete(let count): "\(count) record(s) could not be read"
        case .vaultUnusable: "the vault cannot be used as things are"
        case .migrationIncomplete(let failed, true): "\(failed) legacy token file(s) or entries cannot be imported (see the lines above)"
        case .migrationIncomplete(let failed, false): "\(failed) legacy token(s) were not migrated, or were sealed but their plaintext could not be removed (see the lines above)"
        case .noValidToken(let server, let reason): "no valid token for \(server): \(reason)"
        case .outputFailed(let reason): "the token could not be written to standard output (\(reason)); it was not delivered"
        case .noNewPassphrase(let reason): "the new vault needs a passphrase, and there is none: \(reason)"
        case .helperForAnotherServer(let asked, let named):
            "refused: Claude Code asks for a token to send to \(asked) (CLAUDE_CODE_MCP_SERVER_URL), but this helper names \(named); the token of one server is never handed to another"
        }
    }

    public var hint: String? {
        switch self {
        case .keyringRequired(let error): error.hint
        case .noValidToken(let server, _): "run `mcp-vault login \(server)`"
        case .noNewPassphrase: "run the command in a terminal, or give the new passphrase with --passphrase-file FILE, --passphrase-fd N or MCP_VAULT_PASSPHRASE"
        case .helperForAnotherServer: "check the entry's headersHelper: it must name the server of the entry's url (a project's .mcp.json may have been written to take another server's token)"
        default: nil
        }
    }
}

/// The exit statuses documented in README.md.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case failure = 1
    case noValidToken = 3
    case oauthRefused = 4
    case grantMayLiveOn = 5
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case softwareError = 70
    case systemError = 71
    case cannotCreate = 73
    case ioError = 74
    case temporaryFailure = 75
    case permissionDenied = 77
    case configuration = 78

    public static func of(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as VaultError: of(error)
        case let error as KeyringError: of(VaultError.keyring(error))
        case let error as CredentialsError:
            switch error {
            case .invalidServerURL, .invalidAccount, .invalidSecretName, .accountMismatch: .usage
            case .malformedCredential, .recordTooLarge, .notACredential: .dataError
            case .noCredential, .unknownName, .noSecret: .noInput
            }
        case let error as any ExitStatusProviding: error.exitStatus
        case is ValidationError: .usage
        case let error as CLIError:
            switch error {
            case .passphrasesDiffer: .usage
            case .keyringRequired(let keyring): of(VaultError.keyring(keyring))
            case .statusIncomplete: .dataError
            case .vaultUnusable: .failure
            case .migrationIncomplete: .dataError
            case .noValidToken: .noValidToken
            case .outputFailed: .ioError
            case .noNewPassphrase: .usage
            case .helperForAnotherServer: .permissionDenied
            }
        default: .failure
        }
    }

    public static func of(_ error: VaultError) -> ExitStatus {
        switch error {
        case .noVault: .noInput
        case .alreadyExists: .cannotCreate
        case .insecurePermissions, .wrongOwner, .symbolicLink, .notADirectory, .notARegularFile: .configuration
        case .system, .notWritable: .ioError
        case .fileTooLarge, .recordTooLarge, .malformedHeader, .unsupportedVersion, .kdfParametersOutOfRange, .headerAuthenticationFailed,
             .malformedRecord, .unsupportedRecordVersion, .recordFromAnotherVault, .recordRenamed, .recordAuthenticationFailed:
            .dataError
        case .wrongPassphrase, .passphraseUnavailable, .locked: .permissionDenied
        case .emptyPassphrase, .secretUnavailable: .usage
        case .keyring(.timeout): .temporaryFailure
        case .keyring, .sessionCache: .unavailable
        case .kdfOutOfMemory: .systemError
        case .lastSlot, .slotExists, .noSuchSlot: .failure
        }
    }
}

/// Writing to the terminal: results to stdout, everything else to stderr.
public enum Console {
    public static func out(_ line: String) {
        print(line)
    }

    /// Writes a line that must arrive (a token): every byte reaches standard output, or this throws.
    public static func deliver(_ line: String) throws {
        fflush(nil)  // what print() buffered goes first
        do {
            try ProcessHardening.writeToStandardOutput(line + "\n")
        } catch {
            throw CLIError.outputFailed(reason: "\(error)")
        }
    }

    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// A question on stderr, without a newline, for an answer on stdin.
    public static func prompt(_ text: String) {
        fflush(nil)
        StandardError.write(printable(text))
    }

    /// A progress line on stderr that the next one overwrites; nil clears it.
    public static func progress(_ text: String?) {
        fflush(nil)
        progressShown.withLock { $0 = text != nil }
        StandardError.write("\r\u{1B}[K" + (text ?? ""))
    }

    /// Whether a progress line (without its newline) is on the terminal: a line written then
    /// clears it first, so that it does not run on after the progress text.
    private static let progressShown = Mutex(false)

    /// A line on stderr (never waiting for a reader: see `StandardError`). Control characters
    /// other than newline and tab are shown as `\u{…}`:
    /// text from servers (error descriptions, device codes, addresses) cannot drive the terminal.
    public static func note(_ line: String) {
        fflush(nil)  // keep stdout's buffered lines ahead of this one when both go to one pipe
        let clear = progressShown.withLock { shown in
            defer { shown = false }
            return shown
        }
        StandardError.write((clear ? "\r\u{1B}[K" : "") + printable(line) + "\n")
    }

    /// `text` with every control character but newline and tab escaped (C0, DEL and C1).
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return text.unicodeScalars.map { isControl($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7f...0x9f).contains(scalar.value)
    }

    /// Prints `error:` and `hint:` lines (in the manner of age) and returns the exit status.
    public static func report(_ error: any Error) -> ExitStatus {
        note("mcp-vault: error: \(error)")
        let hint: String? = switch error {
        case let error as any ExitStatusProviding: error.hint
        case let error as VaultError: error.hint
        case let error as KeyringError: error.hint
        case let error as CredentialsError: error.hint
        case let error as CLIError: error.hint
        default: nil
        }
        if let hint { note("mcp-vault: hint: \(hint)") }
        return ExitStatus.of(error)
    }
}

/// Runs a command's body; a failure is printed once and becomes its documented exit status.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        throw ExitCode(Console.report(error).rawValue)
    }
}

public enum LoggingSetup {
    private static let bootstrapped: Bool = {
        LoggingSystem.bootstrap { _ in ConsoleLogHandler() }
        return true
    }()

    public static func bootstrapOnce() {
        _ = bootstrapped
    }
}

/// Log lines in the form of every other message, `mcp-vault: warning: …` on stderr, with control
/// characters shown escaped (a log line may quote a server). `--verbose` adds the debug lines,
/// with the time since start.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    private static let started = ContinuousClock.now

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = switch event.level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warning"
        case .error, .critical: "error"
        }
        var line = "mcp-vault: \(level): \(event.message)"
        if event.level <= .info {
            let elapsed = ContinuousClock.now - Self.started
            let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            line = "mcp-vault: \(level) +\(milliseconds) ms [\(event.source)]: \(event.message)"
        }
        Console.note(line)
    }
}
