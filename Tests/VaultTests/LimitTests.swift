import Credentials
import Foundation
import ServerAddress
import Testing
@testable import Vault

@Suite("Limits on what is written")
struct WriteLimitTests {
    @Test func aRecordLargerThanEveryReaderAcceptsIsNotWritten() throws {
        let test = try TestVault()
        try test.vault.write("kept", payload: Array("small".utf8))
        let huge = [UInt8](repeating: 0x61, count: 1 << 20)
        #expect(expectVaultError("recordTooLarge") { try test.vault.write("kept", payload: huge) } == nil)
        #expect(try test.vault.read("kept")?.payload == Array("small".utf8), "the record that was there stays")
    }

    @Test func aCredentialTooLargeToStoreNamesItsLargestField() throws {
        var record = CredentialRecord(server: try ServerURL("https://mcp.example.com/mcp"), now: 0)
        record.tokens = .init(accessToken: "a", scope: String(repeating: "s ", count: 600_000))
        #expect(throws: CredentialsError.self) { _ = try record.encodedForStorage() }
        do {
            _ = try record.encodedForStorage()
        } catch {
            #expect(error.description.contains("(tokens.scope is the largest field)"), "\(error)")
        }
    }
}

@Suite("Which hosts are this machine")
struct LocalHostTests {
    @Test(arguments: ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "::1", "0.0.0.0", "[::]", "169.254.169.254", "[fe80::1]",
                      "api.localhost", "[0:0:0:0:0:0:0:1]", "LOCALHOST",
                      // Numeric spellings the resolver (inet_aton) takes for these addresses.
                      "2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "127.1", "127.0.0.01", "0", "0xa9.0xfe.0xa9.0xfe", "2852039166"])
    func localAddressesAreLocal(_ host: String) {
        #expect(LoopbackHost.isLocal(host), "\(host)")
    }

    @Test(arguments: ["127.attacker.example", "mcp.example.com", "10.0.0.1", "8.8.8.8", "[2001:db8::1]", "localhost.example.com",
                      "[fec0::1]", "167772161", "0x7f.1.example", "1.2.3.4.5", "0x", "127.256.0.0.1", "4294967296"])
    func remoteAddressesAreNot(_ host: String) {
        #expect(!LoopbackHost.isLocal(host), "\(host)")
    }

    @Test func onlyAddressLiteralsAndLocalhostAreLoopback() {
        #expect(LoopbackHost.isLoopback("127.0.0.1") && LoopbackHost.isLoopback("[::1]") && LoopbackHost.isLoopback("localhost"))
        #expect(!LoopbackHost.isLoopback("127.attacker.example") && !LoopbackHost.isLoopback("169.254.1.1"))
        // Plain http only for the dotted spelling (format v1's canonical URLs); the other
        // spellings of 127.0.0.1 are local all the same (the test above).
        #expect(!LoopbackHost.isLoopback("127.1") && !LoopbackHost.isLoopback("2130706433") && !LoopbackHost.isLoopback("0x7f.1"))
    }
}
