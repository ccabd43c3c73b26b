import Credentials
import Vault
import Foundation

/// `vault-test-tool make-vectors DIR`: writes the format test vectors of Tests/Vectors/v1 (run
/// inside scripts/keyring-session; DIR/passphrase.txt must exist). What it writes is committed
/// and checked by VectorTests and by Tests/Vectors/independent_reader.py; run it again only when
/// the format changes.
enum Vectors {
    /// Inputs whose canonical form (or refusal) the vectors pin down.
    static let urls = [
        "https://mcp.example.com/mcp", "  HTTPS://MCP.Example.COM:443/mcp/  ", "\thttps://mcp.example.com/mcp\r\n",
        "https://mcp.example.com", "https://mcp.example.com/", "https://mcp.example.com///", "https://mcp.example.com/mcp///",
        "https://mcp.example.com/mcp?", "https://mcp.example.com/mcp?#frag", "https://mcp.example.com/mcp#frag",
        "https://mcp.example.com/mcp?b=2&a=1", "https://mcp.example.com/mcp?q=a+b%2fc", "https://x.example/%7euser/%2f",
        "https://x.example/a/./b/../mcp//", "https://x.example/a/b/../../..", "https://x.example/%41%42%2D%5F",
        "https://x.example:0443", "https://x.example:08443/mcp", "https://x.example:/mcp", "https://x.example:65535",
        "http://localhost:3000/mcp", "http://LOCALHOST/mcp", "http://127.0.0.1:80/mcp", "http://127.255.0.1:9/mcp",
        "http://[::1]:8080/mcp", "https://[2001:DB8::1]/mcp", "https://xn--bcher-kva.example/mcp",
        "https://x.example#f", "https://x.example/a#b?c", "https://x.example/a/%2E%2E/mcp", "https://x.example/mcp?a=1?b=2",
        "https://x.example?q=1", "https://x.example/a//b/",
        // refused
        "https://x.example:0", "https://x.example:65536", "https://x.example:12a", "http://127.attacker.example/mcp",
        "http://127.0.0.01/mcp", "http://mcp.example.com/mcp", "https://bücher.example/mcp", "https://x.example/m cp",
        "https://x.example/mcp\u{7f}", "https://user:secret@x.example/mcp", "https://x.example/%zz", "https://x.example/a%2",
        "ftp://x.example/mcp", "mcp.example.com/mcp", "https:///mcp", "https://x_y.example/mcp", "https://x.example/a<b",
        "http://localhost./mcp", "http://[0:0:0:0:0:0:0:1]/mcp", "http://127.1/mcp", "", "   ",
    ]

    static func make(in root: String) throws {
        let passphraseText = try String(contentsOfFile: root + "/passphrase.txt", encoding: .utf8)
        let passphrase = Array((passphraseText.hasSuffix("\n") ? String(passphraseText.dropLast()) : passphraseText).utf8)
        let manager = FileManager.default
        for name in ["vault", "plaintexts"] { try? manager.removeItem(atPath: root + "/" + name) }
        try manager.createDirectory(atPath: root + "/plaintexts", withIntermediateDirectories: true)

        let keyring = SecretServiceKeyring()
        let directory = try VaultDirectory.open(at: root + "/vault", create: true)
        let vault = try Vault.create(in: directory, keyring: keyring, passphrase: SecureBytes(copying: passphrase), cost: .interactive)
        for record in try records() {
            let payload = record.encoded()
            let written = try vault.write(record.serverURL, payload: payload)
            guard let id = written?.id else { throw VaultError.noVault(path: root) }
            try Data(payload).write(to: URL(fileURLWithPath: root + "/plaintexts/\(id).json"))
        }
        guard let slot = vault.header.slot(of: .secretService) else { throw VaultError.noVault(path: root) }
        let secret = try keyring.lookup(vaultID: vault.vaultID, slotID: slot.id)
        let hex = secret.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        try (hex + "\n").write(toFile: root + "/keyring-secret.hex", atomically: true, encoding: .utf8)

        var entries: [[String: Any]] = []
        for input in urls {
            do {
                let server = try ServerURL(input)
                entries.append(["input": input, "canonical": server.canonical, "record_id": vault.recordID(for: server.canonical)])
            } catch {
                entries.append(["input": input, "refused": true])
            }
        }
        let json = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (json + Data("\n".utf8)).write(to: URL(fileURLWithPath: root + "/urls.json"))
        for lock in (try? manager.contentsOfDirectory(atPath: root + "/vault")) ?? [] where lock != "vault.json" && lock != "records" {
            try manager.removeItem(atPath: root + "/vault/" + lock)  // lock files are not part of the format
        }
    }

    /// Three records that between them use every field of the plaintext schema.
    static func records() throws -> [CredentialRecord] {
        var full = CredentialRecord(
            server: try ServerURL("https://mcp.example.com/mcp"), issuer: "https://auth.example.com",
            endpoints: .init(authorization: "https://auth.example.com/authorize", token: "https://auth.example.com/token",
                             revocation: "https://auth.example.com/revoke"),
            client: .init(clientID: "dyn-client-1", source: "dynamic", authMethod: "none", redirectURI: "http://127.0.0.1:49152/callback"),
            tokens: .init(accessToken: "vector-access-token-1", refreshToken: "vector-refresh-token-1", scope: "mcp:read offline_access",
                          expiresAt: 1_800_000_000, refreshExpiresAt: 1_802_592_000),
            now: 1_764_000_000)
        full.stepUp = .init(scope: "mcp:admin mcp:read", attempts: 1, since: 1_764_000_100)
        full.name = "example"
        full.updatedAt = 1_764_000_200

        let imported = CredentialRecord(
            server: try ServerURL("https://legacy.example.org/v1/mcp?tenant=a%2Fb"),
            client: .init(clientID: "legacy-client", source: "imported", authMethod: "none"),
            tokens: .init(accessToken: "vector-access-token-2 with spaces and \"quotes\" and ünïcode"), now: 1_764_000_300)

        var loopback = CredentialRecord(
            server: try ServerURL("http://127.0.0.1:8765/mcp"), issuer: "http://127.0.0.1:8765/tenant",
            endpoints: .init(token: "http://127.0.0.1:8765/tenant/token"),
            client: .init(clientID: "pre-basic", clientSecret: "vector-client-secret", source: "preregistered",
                          authMethod: "client_secret_basic", redirectURI: "http://127.0.0.1:50000/callback"),
            tokens: .init(accessToken: "vector-access-token-3", refreshToken: "vector-refresh-token-3", expiresAt: 1_764_003_600),
            now: 1_764_000_400)
        loopback.resource = "http://127.0.0.1:8765"
        loopback.sendResource = false
        loopback.needsLogin = true
        return [full, imported, loopback]
    }
}
