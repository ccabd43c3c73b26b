import Credentials
import Testing
@testable import ClientConfig

/// Telling secrets from settings, naming them, and the command line a moved entry runs.
@Suite("Plaintext secrets in client configurations")
struct PlaintextSecretTests {
    @Test(arguments: [
        ("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_0123456789abcdefghij0123456789abcdef"),
        ("ANYTHING", "github_pat_11ABCDEFG0123456789"),
        ("OPENAI", "sk-proj-0123456789abcdef"),
        ("SLACK", "xoxb-1234-5678-abcdefgh"),
        ("GITLAB", "glpat-0123456789abcdef"),
        ("SESSION", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"),
        ("DATABASE_URL", "postgres://app:s3cret@db.example.com:5432/app"),
        ("BRAVE_API_KEY", "BSA0123456789"),
        ("DB_PASSWORD", "correct horse"),
        ("X-Auth", "abcdefgh"),
        ("Authorization", "Bearer x"),
        ("authorization", "Basic dXNlcjpwYXNz"),
    ])
    func secrets(name: String, value: String) {
        #expect(PlaintextSecrets.isSecret(name: name, value: value), "\(name)")
    }

    @Test(arguments: [
        ("LOG_LEVEL", "debug"),
        ("GITHUB_TOKEN", "${GITHUB_TOKEN}"),
        ("API_KEY", "{env:API_KEY}"),
        ("GITHUB_TOKEN", "$GITHUB_TOKEN"),
        ("X_KEY", "${env:X_KEY}"),
        ("TOKEN_LIMIT", "4096"),
        ("API_KEY", "short"),
        ("DATABASE_HOST", "postgres://db.example.com:5432/app"),
        ("DATABASE_URL", "postgres://app@db.example.com/app"),
        ("X-Team", "blue"),
        ("Authorization", "Bearer ${TOKEN}"),
        ("Authorization", "Bearer {secret:api/KEY}"),
        ("SK_PATH", "sk-"),
        ("EMPTY_TOKEN", ""),
    ])
    func notSecrets(name: String, value: String) {
        #expect(!PlaintextSecrets.isSecret(name: name, value: value), "\(name)=\(value)")
    }

    @Test func namesAreValidSecretNames() {
        #expect(PlaintextSecrets.secretName(entry: "github", variable: "GITHUB_TOKEN") == "github/GITHUB_TOKEN")
        let odd = PlaintextSecrets.secretName(entry: "my server (work)", variable: "X-API-Key")
        #expect(odd == "my-server--work-/X-API-Key" && SecretRecord.isValidName(odd))
        let leading = PlaintextSecrets.secretName(entry: "@scope/pkg", variable: "KEY")
        #expect(SecretRecord.isValidName(leading), "\(leading)")
        let long = PlaintextSecrets.secretName(entry: String(repeating: "e", count: 300), variable: String(repeating: "V", count: 300))
        #expect(SecretRecord.isValidName(long) && long.count <= 128)
    }

    @Test func theMovedCommandLine() {
        let entry = ServerEntry(location: .init(client: .cursor, path: "/x", keys: ["mcpServers"], scope: "global"), name: "github",
                                member: try! JSONCDocument(Array(#"{"github": {}}"#.utf8)).root.node.members![0], kind: .other)
        let move = LocalSecretMove(entry: entry, moves: [("A", "github/A"), ("B", "github/B")])
        #expect(move.commandLine(["npx", "-y", "server"], command: "/usr/bin/mcp-vault")
                == ["/usr/bin/mcp-vault", "run", "--env", "A=github/A", "--env", "B=github/B", "--", "npx", "-y", "server"])
        // An entry that runs `mcp-vault run` already gets the new options before its `--`.
        #expect(move.commandLine(["mcp-vault", "run", "--env", "C=github/C", "--", "server"], command: "/usr/bin/mcp-vault")
                == ["mcp-vault", "run", "--env", "C=github/C", "--env", "A=github/A", "--env", "B=github/B", "--", "server"])
    }

    @Test func theProxysServerIsFoundPastOptionValues() {
        #expect(ServerEntry.vaultProxyURL(["mcp-vault", "proxy", "--account", "work", "https://x.example/mcp"]) == "https://x.example/mcp")
        #expect(ServerEntry.vaultTokenURL("mcp-vault token --format json https://x.example/mcp") == "https://x.example/mcp")
    }
}
