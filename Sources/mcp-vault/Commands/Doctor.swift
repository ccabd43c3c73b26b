import ArgumentParser
import CommandSupport
import Credentials
import Vault

extension MCPVault {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the keyring, the kernel keyring, the vault and leftover plaintext tokens.",
            discussion: """
                One line per check, with what to do about it. Exits 0 only when the vault can be used.

                Example:
                  mcp-vault doctor
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try reportingErrors {
                let access = VaultAccess(path: global.vaultPath, sources: UnlockSources(sessionCache: false, keyring: nil),
                                         logger: global.logger)
                let diagnosis = Diagnosis.run(access: access, keyring: global.keyring, environment: global.environment)
                let width = diagnosis.checks.map(\.subject.count).max() ?? 0
                for check in diagnosis.checks {
                    let label = "[\(check.outcome.rawValue)]".padding(9)
                    Console.out("\(label) \(check.subject.padding(width)): \(check.detail)")
                    if let remedy = check.remedy, check.outcome != .ok {
                        Console.out(String(repeating: " ", count: 12 + width) + "→ \(remedy)")
                    }
                }
                if !diagnosis.vaultUsable {
                    Console.out("The vault cannot be used as things are.")
                    throw ExitCode(ExitStatus.failure.rawValue)
                }
                Console.out("The vault can be used.")
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
