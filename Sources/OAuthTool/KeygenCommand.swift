import ArgumentParser
import CommandSupport
import Credentials
import OAuth
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `mcp-vault keygen`.
extension KeygenArguments: RunnableArguments {
    func run() async throws {
        do {
            let vault: Vault
            do {
                vault = try unlock.access(global).unlock()
            } catch VaultError.noVault {
                vault = try VaultCreation.createOnFirstUse(global: global, unlock: unlock)
            }
            let server = try ServerReference.resolve(serverURL, account: account, in: vault)
            var key: SigningKey?
            var made = false
            try vault.update(server.recordName) { current in
                let now = Int64(Date().timeIntervalSince1970)
                var record = try current.map { try CredentialRecord.decode($0.payload, id: $0.id) } ?? CredentialRecord(server: server, now: now)
                if !replace, let pem = record.grant?.privateKey, let existing = try? SigningKey(pem: pem) {
                    key = existing
                    return .keep
                }
                let fresh = SigningKey.generateP256()
                var grant = record.grant ?? CredentialRecord.Grant(type: CredentialRecord.Grant.clientCredentials)
                grant.privateKey = fresh.pem
                record.grant = grant
                record.updatedAt = now
                key = fresh
                made = true
                return .write(try record.encodedForStorage())
            }
            guard let key else { return }
            Console.note(made ? "Made a P-256 key for \(server), sealed in the vault; register this public key for your client:"
                              : "The vault already holds a key for \(server) (--replace makes a new one); its public key:")
            let jwk: JSONValue = .object(Self.members(key.publicJWK) + [("use", .string("sig")), ("alg", .string(key.algorithm)), ("kid", .string(key.thumbprint))])
            Console.out(jwk.text)
            Console.out(key.publicPEM)
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }

    static func members(_ value: JSONValue) -> [(String, JSONValue)] {
        if case .object(let members) = value { return members }
        return []
    }
}
