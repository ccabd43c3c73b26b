import Foundation

/// A throwaway HOME with a vault directory, and helpers to run mcp-vault in it with an exact
/// environment (nothing inherited from the test process).
public final class VaultFixture: @unchecked Sendable {
    public let home: TemporaryDirectory
    public var vaultPath: String { home.path + "/vault" }
    public var passphraseFile: String { home.path + "/passphrase" }
    /// Extra variables for every run (a bus, say).
    public var extraEnvironment: [String: String] = [:]

    public static let passphrase = "correct horse battery staple"

    public init() throws {
        home = try TemporaryDirectory(prefix: "fixture")
        try (Self.passphrase + "\n").write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        chmod(passphraseFile, 0o600)
    }

    public var environment: [String: String] {
        var environment = [
            "HOME": home.path, "PATH": "/usr/bin:/bin", "MCP_VAULT_DIR": vaultPath,
            "XDG_RUNTIME_DIR": home.path + "/no-runtime", "MCP_VAULT_KEYRING_TIMEOUT": "2",
        ]
        environment.merge(extraEnvironment) { $1 }
        return environment
    }

    /// Runs mcp-vault with this fixture's environment (plus `environment`).
    @discardableResult
    public func mcpVault(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil) throws -> ProcessResult {
        try run(Binaries.mcpVault, arguments, environment: environment.merging(extra) { $1 }, input: input)
    }

    /// Runs the test tool against this vault.
    @discardableResult
    public func tool(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil) throws -> ProcessResult {
        try run(Binaries.testTool, arguments, environment: environment.merging(extra) { $1 }, input: input)
    }

    /// Creates a passphrase-only vault at the cheap (interactive) Argon2id cost.
    public func createPassphraseVault() throws {
        let result = try mcpVault(["init", "--no-keyring", "--cost", "interactive", "--passphrase-file", passphraseFile])
        guard result.status == 0 else { throw TestFailure("init failed: \(result)") }
    }

    /// Every file below the vault with its bytes, to prove that nothing changed.
    public func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: vaultPath) else { return files }
        while let relative = enumerator.nextObject() as? String {
            let path = vaultPath + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               !relative.hasPrefix("locks/") {
                files[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return files
    }

    public func recordFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: vaultPath + "/records").sorted()
    }
}

/// A value that must never appear in any output: planted as a token, searched for everywhere.
public enum Canary {
    public static let token = "CANARY-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
}
