import ArgumentParser
import CommandSupport
import Credentials
import Vault

extension MCPVault {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unlock",
            abstract: "Cache the vault key in the kernel keyring for a while.",
            discussion: """
                Later commands then need neither the keyring nor the passphrase until the time is up \
                or `mcp-vault lock` is run. The key is held by the kernel in your user keyring, \
                readable only by you, and is gone at reboot.

                Examples:
                  mcp-vault unlock            # 15 minutes; asks for the passphrase
                  mcp-vault unlock --for 2h --passphrase-file ~/.vault-pass
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .customLong("for"), help: ArgumentHelp(
            "How long the key stays cached: 90s, 15m, 2h, 1h30m (at most 24h).", valueName: "duration"))
        var duration: SessionDuration = SessionDuration(seconds: 15 * 60)

        func run() throws {
            try reportingErrors {
                // Renewing takes the keyring or the passphrase again, never the cache itself:
                // otherwise `unlock --for 24h` could be repeated for ever on one passphrase.
                let vault = try unlock.access(global, sessionCache: false).unlock()
                try SessionKeyCache.store(vault, seconds: duration.seconds)
                Console.out("Unlocked the vault at \(vault.directory.path) for \(duration) (using the \(vault.unlockedBy.displayName)).")
            }
        }
    }

    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lock",
            abstract: "Drop the cached vault key at once.",
            discussion: """
                Undoes `mcp-vault unlock`. Commands afterwards unlock through the keyring or the passphrase again.

                Example:
                  mcp-vault lock
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingErrors {
                let header = try VaultDirectory.open(at: global.vaultPath, create: false).readHeader()
                if try SessionKeyCache.remove(vaultID: header.vaultID) {
                    Console.out("Locked: the cached key is gone.")
                } else {
                    Console.out("The vault was not unlocked; nothing to do.")
                }
            }
        }
    }
}

/// A duration such as 90s, 15m, 2h or 1h30m, at most 24 hours.
struct SessionDuration: ExpressibleByArgument, CustomStringConvertible, Sendable {
    static let maximum: UInt32 = 24 * 3600
    let seconds: UInt32

    init(seconds: UInt32) { self.seconds = seconds }

    init?(argument: String) {
        guard let seconds = Self.parse(argument), seconds > 0, seconds <= Self.maximum else { return nil }
        self.seconds = seconds
    }

    static func parse(_ text: String) -> UInt32? {
        if let plain = UInt32(text) { return plain }
        var total: UInt64 = 0
        var number: UInt64?
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                number = (number ?? 0) * 10 + UInt64(digit)
                if number! > UInt64(UInt32.max) { return nil }
                continue
            }
            guard let value = number else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: return nil
            }
            number = nil
        }
        guard number == nil, total <= UInt64(UInt32.max) else { return nil }
        return UInt32(total)
    }

    static var defaultCompletionKind: CompletionKind { .default }

    var description: String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60
        var parts: [String] = []
        if hours > 0 { parts.append("\(hours) h") }
        if minutes > 0 { parts.append("\(minutes) min") }
        if rest > 0 || parts.isEmpty { parts.append("\(rest) s") }
        return parts.joined(separator: " ")
    }
}
