import ArgumentParser
import Credentials
import Logging
import Vault

/// Shell completion of a server argument: the names and URLs the vault holds, when it opens
/// without asking (session cache or keyring, with a short deadline); nothing otherwise.
public enum ServerCompletion {
    public static let kind = CompletionKind.custom { _, _, prefix in candidates(prefix: prefix) }

    static func candidates(prefix: String) -> [String] {
        let environment = GlobalOptions().environment
        let sources = UnlockSources(sessionCache: true, keyring: SecretServiceKeyring(timeout: 1), passphrase: nil)
        let access = VaultAccess(path: environment["MCP_VAULT_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? VaultDirectory.defaultPath(environment: environment),
                                 sources: sources, logger: .init(label: "completion", factory: { _ in SwiftLogNoOpLogHandler() }))
        guard let vault = try? access.unlock(cleanUp: false), let records = try? vault.records() else { return [] }
        var words: [String] = []
        for (id, result) in records {
            guard let record = try? CredentialRecord.decode(try result.get().payload, id: id) else { continue }
            if let name = record.name { words.append(name) }
            words.append(record.serverURL)
        }
        return words.filter { $0.hasPrefix(prefix) }.sorted()
    }
}
