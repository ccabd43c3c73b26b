// vault-test-tool: drives the Vault library from many processes for the crash-safety and
// concurrency tests and the benchmarks. Not installed; not for users.
//
//   vault-test-tool put NAME           seal standard input as record NAME
//   vault-test-tool get NAME           print record NAME
//   vault-test-tool expire NAME        mark credential NAME's access token expired, under its lock
//   vault-test-tool rewrite NAME       rewrite NAME forever with "value-<n>" (prints "ready" first)
//   vault-test-tool increment N NAME…  N rounds of read-modify-write increments of each NAME's decimal payload
//   vault-test-tool make-vectors DIR   write the format test vectors (Tests/Vectors/v1; see Vectors.swift)
//
// The vault is MCP_VAULT_DIR; unlock uses the session cache, the keyring and MCP_VAULT_PASSPHRASE.
import Credentials
import OAuth
import Logging
import Vault
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

func fail(_ message: String) -> Never {
    var text = "vault-test-tool: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.count == 2 && arguments[0] == "dpop-proofs", let count = Int(arguments[1]), count > 0 {
    // The proxy's own cost of DPoP per request: one proof signed (as the proxy signs them: header
    // encoded once, ath once per token), timed over `count` proofs; prints microseconds per proof.
    let signer = DPoPSigner(key: SigningKey.generateP256())
    let token = String(repeating: "t", count: 43)
    _ = try? signer.proof(method: "POST", url: "http://127.0.0.1:1/mcp", nonce: "n", accessToken: token)
    let clock = ContinuousClock()
    let took = clock.measure {
        for _ in 0..<count { _ = try? signer.proof(method: "POST", url: "http://127.0.0.1:1/mcp", nonce: "n", accessToken: token) }
    }
    print(String(format: "%.1f", Double(took.components.attoseconds / 1_000_000_000_000 + took.components.seconds * 1_000_000) / Double(count)))
    exit(0)
}
if arguments.count == 2 && arguments[0] == "make-vectors" {
    do { try Vectors.make(in: arguments[1]) } catch { fail("\(error)") }
    exit(0)
}
guard arguments.count >= 2 else { fail("usage: vault-test-tool put|get|rewrite NAME, or increment N NAME…") }
let passphrase = PassphraseInput.takeFromEnvironment("MCP_VAULT_PASSPHRASE")
guard let path = ProcessInfo.processInfo.environment["MCP_VAULT_DIR"] else { fail("MCP_VAULT_DIR is not set") }

let access = VaultAccess(
    path: path,
    sources: UnlockSources(passphrase: passphrase.map { secret in { @Sendable in secret } }),
    logger: Logger(label: "vault-test-tool"))

do {
    let vault = try access.unlock(upgrade: false)  // records go in as written, under any name
    let name = arguments[1]
    switch arguments[0] {
    case "put":
        var input: [UInt8] = []
        while let line = readLine(strippingNewline: false) { input += Array(line.utf8) }
        try vault.write(name, payload: input)
    case "get":
        guard let record = try vault.read(name) else { fail("no record \(name)") }
        print(String(decoding: record.payload, as: UTF8.self))
    case "expire":
        // Moves the access token's expiry into the past under the record's lock, as time would:
        // a read-then-put would undo a refresh that lands in between.
        try vault.update(name) { current in
            guard let current else { fail("no record \(name)") }
            var record = try CredentialRecord.decode(current.payload, id: current.id)
            record.tokens?.expiresAt = Int64(Date().timeIntervalSince1970) - 10
            return .write(record.encoded())
        }
    case "rewrite":
        var counter = try vault.read(name).flatMap { Int(String(decoding: $0.payload, as: UTF8.self).dropFirst(6)) } ?? 0
        counter += 1
        try vault.write(name, payload: Array("value-\(counter)".utf8))
        _ = write(1, "ready\n", 6)
        while true {
            counter += 1
            try vault.write(name, payload: Array("value-\(counter)".utf8))
        }
    case "increment":
        guard arguments.count >= 3, let rounds = Int(arguments[1]) else { fail("increment N NAME…") }
        for _ in 0..<rounds {
            for counter in arguments.dropFirst(2) {
                try vault.update(counter) { current in
                    let value = current.flatMap { Int(String(decoding: $0.payload, as: UTF8.self)) } ?? 0
                    return .write(Array(String(value + 1).utf8))
                }
            }
        }
    default:
        fail("unknown command \(arguments[0])")
    }
} catch {
    fail("\(error)")
}
