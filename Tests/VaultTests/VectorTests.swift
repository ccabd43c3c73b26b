import Credentials
import Foundation
import Logging
import Testing
import TestSupport
@testable import Vault

/// The committed format vectors (Tests/Vectors/v1, described in its README): the code must open
/// them, and an independent reader written from SECURITY.md alone must too, so that neither the
/// specification nor the code can drift from the bytes.
@Suite("Format v1 vectors", .serialized)
struct VectorTests {
    static let root = Binaries.repositoryRoot + "/Tests/Vectors/v1"

    struct URLVector: Decodable {
        var input: String
        var canonical: String?
        var record_id: String?
        var refused: Bool?
    }

    /// The committed vault, copied to `home`/vault with the modes the format requires (git keeps none).
    private func copyOfVault(into home: TemporaryDirectory) throws -> String {
        let path = home.path + "/vault"
        _ = try VaultDirectory.open(at: path, create: true)
        let manager = FileManager.default
        try manager.copyItem(atPath: Self.root + "/vault/vault.json", toPath: path + "/vault.json")
        chmod(path + "/vault.json", 0o600)
        for name in try manager.contentsOfDirectory(atPath: Self.root + "/vault/records") {
            try manager.copyItem(atPath: Self.root + "/vault/records/" + name, toPath: path + "/records/" + name)
            chmod(path + "/records/" + name, 0o600)
        }
        return path
    }

    private func passphrase() throws -> SecureBytes {
        var text = try String(contentsOfFile: Self.root + "/passphrase.txt", encoding: .utf8)
        if text.hasSuffix("\n") { text.removeLast() }
        return SecureBytes(copying: Array(text.utf8))
    }

    private func plaintexts() throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.root + "/plaintexts") where name.hasSuffix(".json") {
            result[String(name.dropLast(5))] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.root + "/plaintexts/" + name)))
        }
        return result
    }

    /// The vault at `path`, opened with the vectors' passphrase alone.
    private func openWithPassphrase(_ path: String) throws -> Vault {
        let secret = try passphrase()
        return try VaultUnlocker.unlock(try VaultDirectory.open(at: path, create: false),
                                        sources: UnlockSources(sessionCache: false, keyring: nil, passphrase: { secret }),
                                        logger: Logger(label: "vectors"))
    }

    /// Every record opens to its committed plaintext, which is a credential named by its id.
    private func expectRecordsMatch(_ vault: Vault) throws {
        let expected = try plaintexts()
        #expect(expected.count == 3)
        let records = try vault.records()
        #expect(records.count == expected.count)
        for (id, result) in records {
            let record = try result.get()
            #expect(record.payload == expected[id], "record \(id)")
            let credential = try CredentialRecord.decode(record.payload, id: id)
            #expect(try ServerURL(credential.serverURL).canonical == credential.serverURL)
            #expect(vault.recordID(for: credential.serverURL) == id)
            #expect(credential.encoded() == record.payload, "decoding and encoding again gives the same bytes")
        }
    }

    @Test func thePassphraseOpensEveryRecord() throws {
        let home = try TemporaryDirectory(prefix: "vectors")
        defer { withExtendedLifetime(home) {} }
        let vault = try openWithPassphrase(try copyOfVault(into: home))
        #expect(vault.unlockedBy == .passphrase)
        try expectRecordsMatch(vault)
    }

    @Test(.enabled(if: TestBed.hasKeyring, "needs the test bed's keyring (scripts/test)"))
    func theKeyringSecretOpensEveryRecord() throws {
        let home = try TemporaryDirectory(prefix: "vectors")
        defer { withExtendedLifetime(home) {} }
        let path = try copyOfVault(into: home)
        let hex = try String(contentsOfFile: Self.root + "/keyring-secret.hex", encoding: .utf8).trimmingCharacters(in: .newlines)
        let kek = try #require(Encoding.bytes(fromHex: hex, length: 32))
        let header = try VaultDirectory.open(at: path, create: false).readHeader()
        let slot = try #require(header.slot(of: .secretService))
        let keyring = SecretServiceKeyring(timeout: 5)
        try keyring.store(SecureBytes(copying: kek), vaultID: header.vaultID, slotID: slot.id)
        defer { try? keyring.remove(vaultID: header.vaultID, slotID: slot.id) }
        let vault = try VaultUnlocker.unlock(try VaultDirectory.open(at: path, create: false),
                                             sources: UnlockSources(sessionCache: false, keyring: keyring, passphrase: nil),
                                             logger: Logger(label: "vectors"))
        #expect(vault.unlockedBy == .keyring)
        try expectRecordsMatch(vault)
    }

    @Test func everyURLHasItsCanonicalFormAndRecordID() throws {
        let home = try TemporaryDirectory(prefix: "vectors")
        defer { withExtendedLifetime(home) {} }
        let vault = try openWithPassphrase(try copyOfVault(into: home))
        let vectors = try JSONDecoder().decode([URLVector].self, from: Data(contentsOf: URL(fileURLWithPath: Self.root + "/urls.json")))
        #expect(vectors.count > 40)
        for vector in vectors {
            if vector.refused == true {
                #expect(throws: CredentialsError.self, "\(vector.input)") { _ = try ServerURL(vector.input) }
            } else {
                let server = try ServerURL(vector.input)
                #expect(server.canonical == vector.canonical, "\(vector.input)")
                #expect(vault.recordID(for: server.canonical) == vector.record_id, "\(vector.input)")
            }
        }
    }

    @Test func anIndependentReaderWrittenFromTheSpecificationOpensThem() async throws {
        let result = try await runAsync("/usr/bin/env", ["python3", Binaries.repositoryRoot + "/Tests/Vectors/independent_reader.py", Self.root],
                                        environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains(" passed, 0 failed"), "\(result)")
    }
}
