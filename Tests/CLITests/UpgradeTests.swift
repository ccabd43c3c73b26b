import Foundation
import Testing
import TestSupport

/// A vault written by an earlier version, whose records are named by the canonical URL rules of
/// then (a trailing slash, `%7e`, an empty query kept): every record stays reachable by `token URL`,
/// and when two records come to one name the newer is kept and the other set aside, never lost.
@Suite("Upgrades from earlier versions")
struct UpgradeTests {
    static func record(_ serverURL: String, token: String) -> String {
        #"{"schema":1,"server_url":"\#(serverURL)","send_resource":true,"endpoints":{},"needs_login":false,"created_at":0,"updated_at":0,"tokens":{"access_token":"\#(token)","token_type":"Bearer","expires_at":4102444800}}"#
    }

    @Test func recordsUnderEarlierNamesAreRenamedOnceAndNoneIsLost() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        // The vault as an earlier version left it: no marker, records under the names of then.
        let marker = fixture.vaultPath + "/records-canonical-2"
        #expect(FileManager.default.fileExists(atPath: marker), "a new vault is marked as upgraded")
        try FileManager.default.removeItem(atPath: marker)
        let pass = ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase]
        func put(_ name: String, _ payload: String, times: Int = 1) throws {
            for _ in 0..<times { #expect(try fixture.tool(["put", name], environment: pass, input: payload).status == 0) }
        }
        try put("https://a.example/mcp/", Self.record("https://a.example/mcp/", token: "token-a"))
        try put("https://b.example/m%7ecp?", Self.record("https://b.example/m%7ecp?", token: "token-b"))
        // Two records that come to one name: the one written later (a higher generation) wins.
        try put("https://c.example/mcp", Self.record("https://c.example/mcp", token: "token-c-older"))
        try put("https://c.example/mcp/", Self.record("https://c.example/mcp/", token: "token-c-newer"), times: 3)
        #expect(try fixture.recordFiles().count == 4)

        let file = fixture.passphraseFile
        for (url, token) in [("https://a.example/mcp", "token-a"), ("https://b.example/m~cp", "token-b"), ("https://c.example/mcp", "token-c-newer")] {
            let result = try fixture.mcpVault(["token", url, "--passphrase-file", file])
            #expect(result.status == 0 && result.stdout == token + "\n", "\(url): \(result)")
        }
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(try fixture.recordFiles().filter { $0.hasSuffix(".sealed") }.count == 3)
        let setAside = try fixture.recordFiles().filter { $0.contains(".sealed.superseded") }
        #expect(setAside.count == 1, "the older record is kept: \(setAside)")

        let status = try fixture.mcpVault(["status", "--json", "--passphrase-file", file])
        let records = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]] ?? []
        #expect(records.compactMap { $0["server_url"] as? String } == ["https://a.example/mcp", "https://b.example/m~cp", "https://c.example/mcp"], "\(status)")
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect((report?["set_aside"] as? [String])?.count == 1, "\(status)")
        let text = try fixture.mcpVault(["status", "--passphrase-file", file])
        #expect(text.stderr.contains("set aside by an upgrade"), "\(text)")
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("set-aside records") && doctor.stdout.contains(setAside[0]), "\(doctor)")

        // Once marked, later opens do not look again (a record written under an old name now stays).
        try put("https://d.example/mcp/", Self.record("https://d.example/mcp/", token: "token-d"))
        let later = try fixture.mcpVault(["token", "https://d.example/mcp", "--passphrase-file", file])
        #expect(later.status == 66, "\(later)")
    }
}
