import Foundation
import Logging
import TestSupport
@testable import Vault

/// A vault in a temporary directory, made with the cheap Argon2id cost so tests stay quick.
final class TestVault: @unchecked Sendable {
    static let passphrase = "tests are not secrets"
    let home: TemporaryDirectory
    let vault: Vault
    var path: String { home.path + "/vault" }

    init(keyring: SecretServiceKeyring? = nil, passphrase: Bool = true) throws {
        home = try TemporaryDirectory(prefix: "vault")
        let directory = try VaultDirectory.open(at: home.path + "/vault", create: true)
        vault = try Vault.create(in: directory, keyring: keyring, passphrase: passphrase ? Self.secret(Self.passphrase) : nil,
                                 cost: .interactive)
    }

    static func secret(_ text: String) -> SecureBytes { SecureBytes(copying: Array(text.utf8)) }

    static func sources(passphrase: String? = TestVault.passphrase, keyring: SecretServiceKeyring? = nil) -> UnlockSources {
        UnlockSources(sessionCache: false, keyring: keyring, passphrase: passphrase.map { text in { @Sendable in secret(text) } })
    }

    /// Opens the vault again from disk, as a new process would.
    func reopen(_ sources: UnlockSources = TestVault.sources()) throws -> Vault {
        try VaultUnlocker.unlock(try VaultDirectory.open(at: path, create: false), sources: sources, logger: Logger(label: "test"))
    }

    func recordPath(_ name: String) -> String { path + "/records/" + vault.recordID(for: name) + ".sealed" }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: recordPath(name)))) }

    func setBytes(_ bytes: [UInt8], _ name: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: recordPath(name))) }

    var headerPath: String { path + "/vault.json" }

    func editHeader(_ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: headerPath))) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: headerPath))
    }
}

/// The test bed's keyring (scripts/keyring-session), when the tests run inside it.
enum TestBed {
    static var hasKeyring: Bool { ProcessInfo.processInfo.environment["MCP_VAULT_TEST_KEYRING_PID"] != nil }
}

extension VaultError {
    /// The case name, for comparing errors without their payloads.
    var kind: String {
        switch self {
        case .wrongPassphrase: "wrongPassphrase"
        case .emptyPassphrase: "emptyPassphrase"
        default: Mirror(reflecting: self).children.first?.label ?? "unknown"
        }
    }
}

func expectVaultError(_ kind: String, _ body: () throws -> Void) -> VaultError? {
    do {
        try body()
    } catch let error as VaultError {
        return error.kind == kind ? nil : error
    } catch {
        return .system(SystemCallError(call: "unexpected \(error)", path: "", code: 0))
    }
    return .system(SystemCallError(call: "no error thrown", path: "", code: 0))
}
