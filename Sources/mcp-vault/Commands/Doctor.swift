import ArgumentParser
import CommandSupport
import Credentials
import Processes
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MCPVault {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check the keyring, the kernel keyring, the vault and leftover plaintext tokens.",
            discussion: """
                One line per check, with what to do about it. Exits 0 only when the vault can be used.

                Example:
                  mcp-vault doctor
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            try reportingErrors {
                let access = VaultAccess(path: global.vaultPath, sources: UnlockSources(sessionCache: false, keyring: nil),
                                         logger: global.logger)
                var diagnosis = Diagnosis.run(access: access, keyring: global.keyring, environment: global.environment)
                let companion = Self.checkCompanion()
                diagnosis.checks.insert(companion, at: 0)
                let survey = ClientSurvey(environment: global.environment, projectDirectory: FileManager.default.currentDirectoryPath)
                diagnosis.checks += survey.launchChecks(environment: global.environment)
                diagnosis.checks += survey.plaintextSecretChecks()
                if let directory = try? VaultDirectory.open(at: global.vaultPath, create: false), let files = try? directory.supersededRecords(), !files.isEmpty {
                    diagnosis.checks.append(DiagnosticCheck(
                        subject: "set-aside records", outcome: .warning,
                        detail: "\(files.count) record file(s) set aside by an upgrade (the older of two records that came to name one server): "
                            + files.joined(separator: ", "),
                        remedy: "check `mcp-vault status`; remove the file once the server's record is the one you want, or rename it back to its <id>.sealed (removing the newer one) to restore it"))
                }
                if json {
                    printJSON(diagnosis, companionWorks: companion.outcome != .problem)
                    if !diagnosis.vaultUsable || !diagnosis.vaultWritable || companion.outcome == .problem { throw ExitCode(ExitStatus.failure.rawValue) }
                    return
                }
                let width = diagnosis.checks.map(\.subject.count).max() ?? 0
                for check in diagnosis.checks {
                    let label = "[\(check.outcome.rawValue)]".padding(9)
                    Console.out("\(label) \(check.subject.padding(width)): \(check.detail)")
                    if let remedy = check.remedy, check.outcome != .ok {
                        Console.out(String(repeating: " ", count: 12 + width) + "→ \(remedy)")
                    }
                }
                if !diagnosis.vaultUsable || companion.outcome == .problem {
                    Console.out("The vault cannot be used as things are.")
                    throw ExitCode(ExitStatus.failure.rawValue)
                }
                guard diagnosis.vaultWritable else {
                    Console.out("The vault can be read, but nothing new can be stored in it (see free space above).")
                    throw ExitCode(ExitStatus.failure.rawValue)
                }
                Console.out("The vault can be used.")
            }
        }
    }
}

extension MCPVault.Doctor {
    func printJSON(_ diagnosis: Diagnosis, companionWorks: Bool) {
        struct Check: Encodable { let subject: String; let outcome: String; let detail: String; let remedy: String? }
        struct Report: Encodable {
            let schemaVersion = 1
            let usable: Bool
            let writable: Bool
            let checks: [Check]
            enum CodingKeys: String, CodingKey { case schemaVersion = "schema_version", usable, writable, checks }
        }
        let report = Report(usable: diagnosis.vaultUsable && companionWorks, writable: diagnosis.vaultWritable,
                            checks: diagnosis.checks.map { Check(subject: $0.subject, outcome: $0.outcome.rawValue, detail: $0.detail, remedy: $0.remedy) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Console.out(String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self))
    }

    /// mcp-vault-oauth (login, logout, proxy, refreshes) must be beside this program, at the same version.
    static func checkCompanion() -> DiagnosticCheck {
        let path = OAuthProgram.path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return DiagnosticCheck(subject: "mcp-vault-oauth", outcome: .problem, detail: "\(path) is missing (login, logout, proxy and refreshes need it)",
                                   remedy: "install mcp-vault-oauth in the same directory as mcp-vault")
        }
        guard let child = try? Subprocess.Detached([path, "--version"], passing: -1), let (output, status) = child.finish(within: 10), status == 0 else {
            return DiagnosticCheck(subject: "mcp-vault-oauth", outcome: .problem, detail: "\(path) does not run", remedy: "reinstall mcp-vault")
        }
        let version = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
        guard version == ProgramVersion.current else {
            return DiagnosticCheck(subject: "mcp-vault-oauth", outcome: .problem,
                                   detail: "\(path) is version \(version), mcp-vault is \(ProgramVersion.current)",
                                   remedy: "install both programs from the same release")
        }
        return DiagnosticCheck(subject: "mcp-vault-oauth", outcome: .ok, detail: "\(path), version \(version)", remedy: nil)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
