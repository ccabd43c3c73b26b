import Foundation
import Testing
import TestSupport

/// A fixture with a vault and the legacy locations under its HOME.
private final class LegacyFixture: @unchecked Sendable {
    let fixture: VaultFixture
    var config: String { fixture.home.path + "/.config/opencode" }
    var perServer: String { config + "/mcp-oauth" }
    var singleFile: String { config + "/mcp-oauth.json" }
    var opencodeFile: String { fixture.home.path + "/.local/share/opencode/mcp-auth.json" }
    var pass: [String] { ["--passphrase-file", fixture.passphraseFile] }

    init(vault: Bool = true) throws {
        fixture = try VaultFixture()
        if vault { try fixture.createPassphraseVault() }
        try FileManager.default.createDirectory(atPath: perServer, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/.local/share/opencode", withIntermediateDirectories: true)
    }

    func migrate(_ arguments: [String] = []) throws -> ProcessResult {
        try fixture.mcpVault(["migrate"] + arguments + pass)
    }

    func token(_ url: String) throws -> ProcessResult {
        try fixture.mcpVault(["token", url] + pass)
    }

    /// Writes a per-server file named by the hash of `<host>/<url>` and indexes it.
    @discardableResult
    func writePerServer(url: String, json: String, indexed: Bool = true) throws -> String {
        let key = URL(string: url)!.host! + "/" + url
        let hash = legacyHash(key)
        try json.write(toFile: perServer + "/\(hash).json", atomically: true, encoding: .utf8)
        if indexed {
            var index = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: perServer + "/index.json")))) as? [String: String] ?? [:]
            index[hash] = key
            try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: perServer + "/index.json"))
        }
        return hash
    }

    /// Every file under HOME (the vault included) with its bytes.
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: fixture.home.path)!
        while let relative = enumerator.nextObject() as? String {
            let path = fixture.home.path + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue, !relative.contains("/locks/") {
                files[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return files
    }
}

func legacyHash(_ key: String) -> String {
    let result = try! run("/usr/bin/sha256sum", [], environment: [:], input: key)
    return String(result.stdout.prefix(32))
}

/// One `expect:` line of a sample's .expect file.
private struct Expectation {
    let key: String?
    let outcome: String
    let url: String?

    static func parse(_ path: String) throws -> [Expectation] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            var key: String?
            let rest: Substring
            if line.hasPrefix("expect["), let close = line.range(of: "]:") {
                key = String(line[line.index(line.startIndex, offsetBy: "expect[".count)..<close.lowerBound])
                rest = line[close.upperBound...]
            } else if line.hasPrefix("expect:") {
                rest = line.dropFirst("expect:".count)
            } else {
                return nil
            }
            let words = rest.split(separator: " ").map(String.init)
            return Expectation(key: key, outcome: words[0], url: words.count > 1 ? words[1] : nil)
        }
    }
}

@Suite("Migration of legacy plaintext tokens")
struct MigrationTests {
    private let samples = Binaries.repositoryRoot + "/migrations"

    /// The access token a sample holds for `url`, read with a plain JSON parser.
    private func sampleToken(in object: Any) -> String? {
        guard let dictionary = object as? [String: Any] else { return nil }
        if let nested = dictionary["tokens"] { return sampleToken(in: nested) }
        return (dictionary["accessToken"] ?? dictionary["access_token"]) as? String
    }

    @Test func everySampleHasItsExpectedOutcome() throws {
        let legacy = try LegacyFixture()
        let sampleDirectory = samples + "/opencode-mcp-oauth/samples"
        for name in try FileManager.default.contentsOfDirectory(atPath: sampleDirectory) where name.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: sampleDirectory + "/" + name, toPath: legacy.perServer + "/" + name)
        }
        try FileManager.default.copyItem(atPath: samples + "/opencode-mcp-oauth-json/samples/mcp-oauth.json", toPath: legacy.singleFile)
        try FileManager.default.copyItem(atPath: samples + "/opencode-mcp-auth/samples/mcp-auth.json", toPath: legacy.opencodeFile)
        // Made here rather than in git: a link to a valid token file (never followed), and an
        // unreadable file (a directory, since tests run as root and root reads any file).
        let elsewhere = legacy.fixture.home.file("elsewhere.json")
        try #"{"accessToken": "must-not-be-followed"}"#.write(toFile: elsewhere, atomically: true, encoding: .utf8)
        let linkHash = legacyHash("link.example.com/https://link.example.com/mcp")
        try FileManager.default.createSymbolicLink(atPath: legacy.perServer + "/\(linkHash).json", withDestinationPath: elsewhere)
        let unreadableHash = legacyHash("unreadable.example.com/https://unreadable.example.com/mcp")
        try FileManager.default.createDirectory(atPath: legacy.perServer + "/\(unreadableHash).json", withIntermediateDirectories: false)

        let before = try legacy.snapshot()
        let result = try legacy.migrate()
        #expect(result.status == 65, "some samples must fail: \(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)

        func check(_ expectation: Expectation, marker: String, file: String, token: String?) throws {
            let line = try #require(lines.first { $0.contains(marker) }, "no output line for \(marker)")
            #expect(line.hasPrefix(expectation.outcome), "\(marker): expected \(expectation.outcome), got: \(line)")
            if expectation.outcome == "imported", let url = expectation.url {
                #expect(line.contains(url), "\(line)")
                let printed = try legacy.token(url)
                #expect(printed.status == 0 && printed.stdout == (token ?? "?") + "\n", "\(url): \(printed)")
            }
            if expectation.outcome != "imported" && expectation.key == nil {
                #expect(FileManager.default.contents(atPath: file) == before[String(file.dropFirst(legacy.fixture.home.path.count + 1))],
                        "\(file) must be left exactly as it was")
            }
        }

        var imported = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: sampleDirectory) where name.hasSuffix(".expect") {
            let hash = String(name.dropLast(".expect".count))
            let file = legacy.perServer + "/\(hash).json"
            let expectation = try #require(try Expectation.parse(sampleDirectory + "/" + name).first)
            let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sampleDirectory + "/\(hash).json")))
            try check(expectation, marker: "\(hash).json", file: file, token: object.flatMap(sampleToken))
            #expect(FileManager.default.fileExists(atPath: file) == (expectation.outcome != "imported"), "\(file)")
            if expectation.outcome == "imported" { imported += 1 }
        }
        for (sample, target) in [("opencode-mcp-oauth-json/samples/mcp-oauth", legacy.singleFile), ("opencode-mcp-auth/samples/mcp-auth", legacy.opencodeFile)] {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: samples + "/\(sample).json"))) as! [String: Any]
            let expectations = try Expectation.parse(samples + "/\(sample).expect")
            for expectation in expectations {
                let key = try #require(expectation.key)
                try check(expectation, marker: "[\(key)]", file: target, token: object[key].flatMap(sampleToken))
                if expectation.outcome == "imported" { imported += 1 }
            }
            // Imported entries leave the file; the others stay in it.
            let remaining = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: target)))) as? [String: Any] ?? [:]
            #expect(Set(remaining.keys) == Set(expectations.filter { $0.outcome != "imported" }.compactMap(\.key)), "\(target)")
        }
        let link = try #require(lines.first { $0.contains(linkHash) })
        #expect(link.hasPrefix("failed") && link.contains("symbolic link"), "\(link)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: legacy.perServer + "/\(linkHash).json") == elsewhere)
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8).contains("must-not-be-followed"))
        let unreadable = try #require(lines.first { $0.contains(unreadableHash) })
        #expect(unreadable.hasPrefix("failed") && unreadable.contains("not a regular file"), "\(unreadable)")

        let status = try legacy.fixture.mcpVault(["status", "--json"] + legacy.pass)
        let records = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["records"] as? [Any]
        #expect(records?.count == imported, "\(status)")
        // The index keeps only entries whose files remain.
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: legacy.perServer + "/index.json"))) as! [String: String]
        for hash in index.keys {
            #expect(FileManager.default.fileExists(atPath: legacy.perServer + "/\(hash).json"), "stale index entry \(hash)")
        }
        // A second run imports nothing and changes nothing.
        let afterFirst = try legacy.snapshot()
        let again = try legacy.migrate()
        #expect(!again.stdout.contains("imported "), "\(again)")
        #expect(try legacy.snapshot() == afterFirst)
    }

    @Test func everyMCPRemoteSampleHasItsExpectedOutcome() throws {
        let legacy = try LegacyFixture()
        let sampleDirectory = samples + "/mcp-remote/samples"
        let home = legacy.fixture.home.path
        for item in [".mcp-auth", ".config/Claude"] {
            try FileManager.default.createDirectory(atPath: home + "/" + item.split(separator: "/").dropLast().joined(separator: "/"),
                                                    withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: sampleDirectory + "/home/" + item, toPath: home + "/" + item)
        }
        let folder = home + "/.mcp-auth/mcp-remote-0.1.29"
        let started = Int64(Date().timeIntervalSince1970)
        let before = try legacy.snapshot()
        let result = try legacy.migrate()
        #expect(result.status == 65, "the cut-short sample must fail: \(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for name in try FileManager.default.contentsOfDirectory(atPath: sampleDirectory) where name.hasSuffix(".expect") {
            let hash = String(name.dropLast(".expect".count))
            let expectation = try #require(try Expectation.parse(sampleDirectory + "/" + name).first)
            let tokensFile = folder + "/\(hash)_tokens.json"
            let line = try #require(lines.first { $0.contains("\(hash)_tokens.json") }, "no line for \(hash): \(result)")
            #expect(line.hasPrefix(expectation.outcome), "\(hash): expected \(expectation.outcome), got \(line)")
            if expectation.outcome == "imported", let url = expectation.url {
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sampleDirectory + "/home/.mcp-auth/mcp-remote-0.1.29/\(hash)_tokens.json"))) as! [String: Any]
                let printed = try legacy.token(url)
                #expect(printed.stdout == (object["access_token"] as! String) + "\n", "\(url): \(printed)")
                // Every file of that hash is gone: tokens, registration, verifier, lock.
                let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(hash) }
                #expect(left.isEmpty, "\(left)")
            } else {
                #expect(FileManager.default.contents(atPath: tokensFile) == before[String(tokensFile.dropFirst(home.count + 1))], "\(tokensFile) must stay as it was")
            }
            if expectation.outcome == "skipped" { #expect(line.contains("--assign \(hash)="), "\(line)") }
        }
        // What the record holds: the estimated expiry, the registration with its method, the name.
        let status = try legacy.fixture.mcpVault(["status", "--json"] + legacy.pass)
        let records = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]])
        let example = try #require(records.first { $0["server_url"] as? String == "https://mcp.example.com/mcp" }, "\(status)")
        let expiresAt = try #require(example["expires_at"] as? Int)
        #expect((started - 120...Int64(Date().timeIntervalSince1970) + 3600).contains(Int64(expiresAt)), "\(example)")
        #expect(example["client_id"] as? String == "remote-client-a" && example["name"] as? String == "example", "\(example)")
        let tenant = try #require(records.first { $0["server_url"] as? String == "https://headers.example.com/mcp" })
        #expect(tenant["client_id"] as? String == "remote-client-b" && tenant["name"] as? String == "tenant", "\(tenant)")
        // The assignment imports the file no configuration explains.
        let unknown = "6529631a71f571581bf70af3ed94878a"
        let assigned = try legacy.migrate(["--assign", "\(unknown)=https://unknown.example.com/mcp"])
        #expect(assigned.stdout.contains("imported        https://unknown.example.com/mcp"), "\(assigned)")
        #expect(try legacy.token("https://unknown.example.com/mcp").stdout == "remote-access-c\n")
        // Claude Desktop still runs mcp-remote: migrate says so, with the command that changes it.
        #expect(result.stdout.contains("Claude Desktop: example, tenant, broken, legacy-sse; run `mcp-vault setup claude-desktop`"), "\(result)")
    }

    /// `--from` one mcp-remote version folder reads it as mcp-remote's (expiry, registration and
    /// companions), and an --assign whose hash is not the URL's MD5 is imported with a warning.
    @Test func fromAnMCPRemoteVersionFolder() throws {
        let legacy = try LegacyFixture()
        let folder = legacy.fixture.home.file("elsewhere/mcp-remote-0.1.40")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let hash = "0123456789abcdef0123456789abcdef"
        try #"{"access_token": "from-elsewhere", "expires_in": 3600, "refresh_token": "r"}"#.write(toFile: folder + "/\(hash)_tokens.json", atomically: true, encoding: .utf8)
        try #"{"client_id": "elsewhere-client"}"#.write(toFile: folder + "/\(hash)_client_info.json", atomically: true, encoding: .utf8)
        let result = try legacy.migrate(["--from", folder, "--assign", "\(hash.uppercased())=https://lnk.example.com/mcp"])
        #expect(result.status == 0 && result.stdout.contains("imported        https://lnk.example.com/mcp"), "\(result)")
        #expect(result.stderr.contains("is not the MD5 of that URL"), "\(result)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "tokens and registration both gone")
        let status = try legacy.fixture.mcpVault(["status", "https://lnk.example.com/mcp"] + legacy.pass)
        #expect(status.stdout.contains("client id  elsewhere-client") && status.stdout.contains("expires in"), "\(status)")
    }

    /// mcp-remote takes any expires_in; so does the import: a string holding a number, a negative
    /// one (expired), one that is no number (unknown). None makes the file fail for ever.
    @Test(arguments: [(#""3600""#, "expires in"), ("-5", "expired"), (#""soon""#, "no expiry given")])
    func oddExpiresInValuesAreReadAsMcpRemoteReadsThem(value: String, state: String) throws {
        let legacy = try LegacyFixture()
        let folder = legacy.fixture.home.file("remote/mcp-remote-0.1.40")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let url = "https://odd.example.com/mcp"
        let hash = try #require(try MD5Sum.hex(url))
        try #"{"access_token": "odd", "refresh_token": "r", "expires_in": \#(value)}"#.write(toFile: folder + "/\(hash)_tokens.json", atomically: true, encoding: .utf8)
        let result = try legacy.migrate(["--from", folder, "--assign", "\(hash)=\(url)"])
        #expect(result.status == 0 && result.stdout.contains("imported        \(url)"), "\(result)")
        let status = try legacy.fixture.mcpVault(["status", url] + legacy.pass)
        #expect(status.stdout.contains(state), "\(status)")
    }

    @Test func aDryRunChangesNothingAndSaysWhatWouldHappen() throws {
        for withVault in [true, false] {
            let legacy = try LegacyFixture(vault: withVault)
            try legacy.writePerServer(url: "https://a.example.com/mcp", json: #"{"accessToken": "tok-a", "expiresAt": 4102444800}"#)
            try legacy.writePerServer(url: "https://b.example.com/mcp", json: "{", indexed: true)
            let before = try legacy.snapshot()
            let result = try legacy.migrate(["--dry-run"])
            #expect(try legacy.snapshot() == before, "withVault: \(withVault)")
            #expect(result.stdout.contains("would import    https://a.example.com/mcp"), "\(result)")
            #expect(result.stdout.contains("Nothing was changed (dry run)."))
            #expect(withVault || result.stdout.contains("A new vault would be created"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: legacy.fixture.vaultPath + "/vault.json") || withVault)
        }
    }

    @Test func aKilledMigrationIsFinishedByTheNextRunWithEveryTokenOnce() throws {
        let legacy = try LegacyFixture()
        let count = 300
        var index: [String: String] = [:]
        for number in 0..<count {
            let url = "https://server\(number).example.com/mcp"
            let key = "server\(number).example.com/\(url)"
            let hash = legacyHash(key)
            index[hash] = key
            try #"{"accessToken": "token-\#(number)", "refreshToken": "refresh-\#(number)", "expiresAt": 4102444800}"#
                .write(toFile: legacy.perServer + "/\(hash).json", atomically: false, encoding: .utf8)
        }
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: legacy.perServer + "/index.json"))

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<6 {
            let migration = try ChildProcess(Binaries.mcpVault, ["migrate"] + legacy.pass, environment: legacy.fixture.environment)
            usleep(UInt32.random(in: 20_000...250_000, using: &generator))
            migration.signal(SIGKILL)
            if migration.wait() == 128 + SIGKILL { kills += 1 }
        }
        #expect(kills > 0, "at least one run was killed part-way")
        let final = try legacy.migrate()
        #expect(final.status == 0, "\(final)")

        let remaining = try FileManager.default.contentsOfDirectory(atPath: legacy.perServer)
        #expect(remaining.isEmpty, "no plaintext is left: \(remaining.prefix(5))")
        let status = try legacy.fixture.mcpVault(["status", "--json"] + legacy.pass)
        let records = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]])
        #expect(records.count == count)
        #expect(Set(records.compactMap { $0["server_url"] as? String }).count == count)
        for number in stride(from: 0, to: count, by: 37) {
            #expect(try legacy.token("https://server\(number).example.com/mcp").stdout == "token-\(number)\n")
        }
    }

    @Test func aServerAlreadyInTheVaultKeepsTheLaterToken() throws {
        let legacy = try LegacyFixture()
        let url = "https://conflict.example.com/mcp"
        try storeCredential(legacy.fixture, url: url, token: "vault-token", expiresIn: 7200)
        let later = Int(Date().timeIntervalSince1970) + 86400

        // The legacy token expires sooner: the vault's is kept, and so is the plaintext.
        let hash = try legacy.writePerServer(url: url, json: #"{"accessToken": "legacy-sooner", "expiresAt": \#(later - 80000)}"#)
        let kept = try legacy.migrate()
        #expect(kept.stdout.contains("kept") && kept.stdout.contains("--overwrite"), "\(kept)")
        #expect(try legacy.token(url).stdout == "vault-token\n")
        #expect(FileManager.default.fileExists(atPath: legacy.perServer + "/\(hash).json"))

        // --overwrite prefers the import.
        let forced = try legacy.migrate(["--overwrite"])
        #expect(forced.stdout.contains("replaced"), "\(forced)")
        #expect(try legacy.token(url).stdout == "legacy-sooner\n")
        #expect(!FileManager.default.fileExists(atPath: legacy.perServer + "/\(hash).json"))

        // A legacy token that expires later replaces the vault's without being asked.
        try legacy.writePerServer(url: url, json: #"{"accessToken": "legacy-later", "expiresAt": \#(later)}"#)
        let replaced = try legacy.migrate()
        #expect(replaced.stdout.contains("replaced"), "\(replaced)")
        #expect(try legacy.token(url).stdout == "legacy-later\n")
        let status = try legacy.fixture.mcpVault(["status", url] + legacy.pass)
        #expect(status.stdout.contains("client-123"), "the stored registration survives a replaced token: \(status)")
    }

    @Test func assignNamesTheServerOfAnOrphan() throws {
        let legacy = try LegacyFixture()
        let hash = try legacy.writePerServer(url: "https://orphan.example.com/mcp", json: #"{"accessToken": "orphan-token"}"#, indexed: false)
        let skipped = try legacy.migrate()
        #expect(skipped.status == 0 && skipped.stdout.contains("--assign \(hash)=SERVER-URL"), "\(skipped)")
        let assigned = try legacy.migrate(["--assign", "\(hash)=https://orphan.example.com/mcp"])
        #expect(assigned.status == 0 && assigned.stdout.contains("imported"), "\(assigned)")
        #expect(try legacy.token("https://orphan.example.com/mcp").stdout == "orphan-token\n")
        #expect(try legacy.migrate(["--assign", "nonsense"]).status == 64)
    }

    @Test func keepPlaintextImportsAndLeavesEveryFile() throws {
        let legacy = try LegacyFixture()
        try legacy.writePerServer(url: "https://keep.example.com/mcp", json: #"{"accessToken": "keep-token"}"#)
        let before = try FileManager.default.contentsOfDirectory(atPath: legacy.perServer).sorted()
        let result = try legacy.migrate(["--keep-plaintext"])
        #expect(result.status == 0 && result.stdout.contains("imported"), "\(result)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: legacy.perServer).sorted() == before)
        #expect(try legacy.token("https://keep.example.com/mcp").stdout == "keep-token\n")
    }

    @Test func migrateCreatesTheVaultWhenThereIsNone() throws {
        let legacy = try LegacyFixture(vault: false)
        try legacy.writePerServer(url: "https://new.example.com/mcp", json: #"{"accessToken": "new-token"}"#)
        let result = try legacy.migrate(["--cost", "interactive"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("creating one"))
        #expect(try legacy.token("https://new.example.com/mcp").stdout == "new-token\n")
    }

    @Test func nothingToMigrateIsSaidPlainly() throws {
        let legacy = try LegacyFixture()
        let result = try legacy.migrate()
        #expect(result.status == 0 && result.stdout.contains("No legacy token files found"), "\(result)")
    }
}

@Suite("Token output")
struct TokenTests {
    @Test func tokenPrintsExactlyTheTokenOrTheHeader() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://t.example.com/mcp", token: "exact-token-value", expiresIn: 600)
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let plain = try fixture.mcpVault(["token", "https://T.example.com:443/mcp/"] + pass)
        #expect(plain.status == 0 && plain.stdout == "exact-token-value\n" && plain.stderr.isEmpty, "\(plain)")
        let header = try fixture.mcpVault(["token", "--header", "https://t.example.com/mcp"] + pass)
        #expect(header.stdout == "Authorization: Bearer exact-token-value\n", "\(header)")
    }

    @Test func anExpiredTokenIsNotPrinted() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        // No refresh token: nothing to refresh with (and no request leaves this machine).
        try storeCredential(fixture, url: "https://old.example.com/mcp", token: "stale-token", expiresIn: -120, refreshable: false)
        let result = try fixture.mcpVault(["token", "https://old.example.com/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 3, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("expired 2 min ago"), "\(result)")
        #expect(!result.stderr.contains("stale-token"))
        let unknown = try fixture.mcpVault(["token", "https://unknown.example.com/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(unknown.status == 66 && unknown.stdout.isEmpty, "\(unknown)")
    }
}

@Suite("Migration safety")
struct MigrationSafetyTests {
    @Test func aLegacyFileChangedAfterTheScanIsNotRemoved() throws {
        // A file whose sealed copy exists but whose plaintext now holds something else (another
        // program rotated the token) stays; only identical plaintext is removed.
        let legacy = try LegacyFixture()
        let url = "https://rotating.example.com/mcp"
        try legacy.writePerServer(url: url, json: #"{"accessToken": "first", "refreshToken": "r1", "expiresAt": 4102444800}"#)
        #expect(try legacy.migrate().status == 0)
        let hash = try legacy.writePerServer(url: url, json: #"{"accessToken": "first", "refreshToken": "r2", "expiresAt": 4102444800}"#)
        let result = try legacy.migrate()
        #expect(!result.stdout.contains("finished"), "a different refresh token is not 'already sealed': \(result)")
        #expect(FileManager.default.fileExists(atPath: legacy.perServer + "/\(hash).json"), "the plaintext with r2 stays")
    }

    @Test func aSymlinkedLegacyDirectoryIsNotFollowed() throws {
        let legacy = try LegacyFixture()
        let real = legacy.fixture.home.file("real-mcp-oauth")
        try FileManager.default.moveItem(atPath: legacy.perServer, toPath: real)
        try FileManager.default.createSymbolicLink(atPath: legacy.perServer, withDestinationPath: real)
        try #"{"accessToken": "behind-a-link", "serverUrl": "https://link.example.com/mcp"}"#
            .write(toFile: real + "/00112233445566778899aabbccddeeff.json", atomically: true, encoding: .utf8)
        let result = try legacy.migrate()
        #expect(result.status == 65 && result.stdout.contains("symbolic link"), "\(result)")
        #expect(FileManager.default.fileExists(atPath: real + "/00112233445566778899aabbccddeeff.json"))
    }

    @Test func hardLinkedPlaintextIsUnlinkedButTheOtherCopyKeepsItsBytes() throws {
        let legacy = try LegacyFixture()
        let hash = try legacy.writePerServer(url: "https://hard.example.com/mcp", json: #"{"accessToken": "hard-token"}"#)
        let backup = legacy.fixture.home.file("backup.json")
        try FileManager.default.linkItem(atPath: legacy.perServer + "/\(hash).json", toPath: backup)
        let result = try legacy.migrate()
        #expect(result.status == 0 && result.stderr.contains("had another hard link") && result.stderr.contains("still holds the plaintext"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: legacy.perServer + "/\(hash).json"))
        #expect(try String(contentsOfFile: backup, encoding: .utf8).contains("hard-token"), "the backup copy was not zeroed")
    }

    @Test func anAbsurdExpiryIsReportedNotACrash() throws {
        let legacy = try LegacyFixture()
        try legacy.writePerServer(url: "https://absurd.example.com/mcp", json: #"{"accessToken": "t", "expiresAt": 1e300}"#)
        let result = try legacy.migrate()
        #expect(result.status == 65 && result.stdout.contains("is not a time"), "\(result)")
    }

    @Test func aPasswordInAURLIsNeverEchoed() throws {
        let fixture = try VaultFixture()
        let result = try fixture.mcpVault(["status", "https://user:hunter2secret@mcp.example.com/mcp"])
        #expect(result.status == 64, "\(result)")
        #expect(!result.output.contains("hunter2secret"), "\(result)")
    }
}

@Suite("Migration: what a killed or concurrent run leaves")
struct MigrationLeftoverTests {
    /// Rewriting opencode's mcp-auth.json (one entry imported, one left for --assign) zeroes the
    /// old file's bytes: a reader holding the old inode sees no token in it.
    @Test func aRewrittenMultiEntryFileLeavesNoTokenInItsOldBlocks() throws {
        let legacy = try LegacyFixture()
        try """
            {"imported": {"tokens": {"accessToken": "old-block-canary-token"}, "serverUrl": "https://imported.example.com/mcp"},
             "nourl": {"tokens": {"accessToken": "stays-for-assign"}}}
            """.write(toFile: legacy.opencodeFile, atomically: true, encoding: .utf8)
        let oldInode = try FileHandle(forReadingFrom: URL(fileURLWithPath: legacy.opencodeFile))
        defer { try? oldInode.close() }
        let result = try legacy.migrate()
        #expect(result.status == 0, "\(result)")
        let rewritten = try String(contentsOfFile: legacy.opencodeFile, encoding: .utf8)
        #expect(rewritten.contains("stays-for-assign") && !rewritten.contains("old-block-canary-token"), "\(rewritten)")
        try oldInode.seek(toOffset: 0)
        let oldBytes = try oldInode.readToEnd() ?? Data()
        #expect(!oldBytes.isEmpty && oldBytes.allSatisfy { $0 == 0 }, "the replaced file was zeroed")
    }

    /// The single file renamed aside for shredding by a killed run holds every token; doctor
    /// reports it and the next migrate finishes it, though no mcp-oauth.json is left to scan.
    @Test func aFileLeftHalfShreddedIsReportedAndFinished() throws {
        let legacy = try LegacyFixture()
        let leftover = legacy.config + "/.mcp-oauth.json.mcp-vault-shredding"
        try #"{"k": {"accessToken": "leftover-token"}}"#.write(toFile: leftover, atomically: true, encoding: .utf8)
        let doctor = try legacy.fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("migration leftovers") && doctor.stdout.contains(leftover), "\(doctor)")
        let migrate = try legacy.migrate()
        #expect(migrate.status == 0 && migrate.stderr.contains("finished removing \(leftover)"), "\(migrate)")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(!(try legacy.fixture.mcpVault(["doctor"]).stdout.contains("migration leftovers")))
    }

    /// Two migrates at once: the second sees, under the lock, that the first imported everything.
    @Test func twoConcurrentMigratesBothSucceedAndImportEachTokenOnce() async throws {
        let legacy = try LegacyFixture()
        for number in 0..<20 {
            try legacy.writePerServer(url: "https://s\(number).example.com/mcp", json: #"{"accessToken": "token-\#(number)"}"#)
        }
        async let first = runAsync(Binaries.mcpVault, ["migrate"] + legacy.pass, environment: legacy.fixture.environment)
        async let second = runAsync(Binaries.mcpVault, ["migrate"] + legacy.pass, environment: legacy.fixture.environment)
        let results = try await [first, second]
        for result in results {
            #expect(result.status == 0, "\(result)")
            #expect(!result.output.contains("does not exist"), "\(result)")
        }
        #expect(try legacy.fixture.recordFiles().count == 20)
        #expect(try legacy.token("https://s7.example.com/mcp").stdout == "token-7\n")
    }
}

@Suite("Migration: what the user must do next")
struct MigrationAdviceTests {
    @Test func anExpiredTokenWithoutRefreshTokenIsSaidToNeedALogin() throws {
        let legacy = try LegacyFixture()
        try legacy.writePerServer(url: "https://stale.example.com/mcp", json: #"{"accessToken": "stale", "expiresAt": 1000}"#)
        try legacy.writePerServer(url: "https://fresh.example.com/mcp", json: #"{"accessToken": "fresh", "refreshToken": "r", "expiresAt": 1000}"#)
        let result = try legacy.migrate()
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("expired, and it holds no refresh token: it needs `mcp-vault login https://stale.example.com/mcp`"), "\(result)")
        #expect(!result.stdout.contains("login https://fresh.example.com/mcp"), "a refresh token can renew it")
    }
}
