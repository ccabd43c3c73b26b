import Credentials
import Foundation
import Testing
import TestSupport

// `mcp-vault setup CLIENT` on the sample configurations in Tests/Fixtures/clients/<sample>: its
// `home` is copied into the fixture's HOME, its `project` (when it has one) into HOME/project.
// Every sample has `linear` (a server the vault holds), `other` (one it does not hold) and a
// local server, beside settings that are none of setup's business.

private let linearURL = "https://mcp.linear.app/mcp"
private let linearHelper = "mcp-vault token https://mcp.linear.app/mcp --format json"
private let staticToken = "STATIC-CANARY-TOKEN"

/// One file of a sample: where it is below HOME, the keys to its servers object, the name of its
/// local server, and the entry setup should make of `linear`.
private struct SampleFile {
    let path: String
    let keys: [String]
    let local: String
    let linear: [String: Any]
}

private func sampleFiles(_ sample: String) -> [SampleFile] {
    let proxy: [String: Any] = ["command": "mcp-vault", "args": ["proxy", linearURL]]
    func proxied(_ extra: [String: Any]) -> [String: Any] { proxy.merging(extra) { $1 } }
    switch sample {
    case "opencode":
        return [SampleFile(path: ".config/opencode/opencode.json", keys: ["mcp"], local: "everything",
                           linear: ["type": "local", "command": ["mcp-vault", "proxy", linearURL], "enabled": true])]
    case "claude-desktop":
        return [SampleFile(path: ".config/Claude/claude_desktop_config.json", keys: ["mcpServers"], local: "filesystem",
                           linear: ["command": "mcp-vault", "args": ["proxy", linearURL, "--header", "X-Linear-Team: ENG"],
                                    "env": ["NODE_NO_WARNINGS": "1"]])]
    case "cursor":
        return [SampleFile(path: ".cursor/mcp.json", keys: ["mcpServers"], local: "sqlite", linear: proxy)]
    case "claude-code":
        return [SampleFile(path: ".claude.json", keys: ["mcpServers"], local: "playwright",
                           linear: ["type": "http", "url": linearURL, "headers": ["X-Linear-Team": "ENG"], "headersHelper": linearHelper]),
                SampleFile(path: "project/.mcp.json", keys: ["mcpServers"], local: "postgres",
                           linear: proxied(["type": "stdio", "env": [String: Any]()]))]
    case "gemini":
        return [SampleFile(path: ".gemini/settings.json", keys: ["mcpServers"], local: "github",
                           linear: proxied(["timeout": 30000, "trust": false]))]
    case "zed", "zed-comment-inside":
        return [SampleFile(path: ".config/zed/settings.json", keys: ["context_servers"], local: "filesystem",
                           linear: proxied(["source": "custom"]))]
    case "vscode":
        return [SampleFile(path: ".config/Code/User/mcp.json", keys: ["servers"], local: "memory", linear: proxied(["type": "stdio"]))]
    case "windsurf":
        return [SampleFile(path: ".codeium/windsurf/mcp_config.json", keys: ["mcpServers"], local: "github", linear: proxy)]
    case "cline":
        return [SampleFile(path: ".cline/data/settings/cline_mcp_settings.json", keys: ["mcpServers"], local: "fetch",
                           linear: proxied(["type": "stdio", "disabled": false, "autoApprove": ["list_issues"], "timeout": 60]))]
    default:
        return []
    }
}

private func projectDirectory(_ fixture: VaultFixture) -> String { fixture.home.path + "/project" }

/// A passphrase vault holding `linear`, and the files of `sample` in the fixture's HOME, each
/// with mode 0640 (which a rewrite must keep, and an atomic write does not give by itself).
private func prepared(_ sample: String) throws -> VaultFixture {
    let fixture = try VaultFixture()
    try fixture.createPassphraseVault()
    try storeCredential(fixture, url: linearURL, token: "linear-token")
    let manager = FileManager.default
    let source = Binaries.repositoryRoot + "/Tests/Fixtures/clients/" + sample
    try manager.createDirectory(atPath: projectDirectory(fixture), withIntermediateDirectories: true)
    for (part, destination) in [("home", fixture.home.path), ("project", projectDirectory(fixture))]
    where manager.fileExists(atPath: source + "/" + part) {
        for item in try manager.contentsOfDirectory(atPath: source + "/" + part) {
            try manager.copyItem(atPath: source + "/" + part + "/" + item, toPath: destination + "/" + item)
        }
    }
    for file in sampleFiles(sample) {
        guard chmod(fixture.home.file(file.path), 0o640) == 0 else { throw TestFailure("no sample file \(file.path) in \(source)") }
    }
    return fixture
}

@discardableResult
private func runSetup(_ fixture: VaultFixture, _ client: String, _ extra: [String] = []) throws -> ProcessResult {
    try fixture.mcpVault(["setup", client, "--project", projectDirectory(fixture), "--passphrase-file", fixture.passphraseFile,
                          "--command", "mcp-vault"] + extra)
}

private func fileContents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

private func fileMode(_ path: String) throws -> Int? {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
}

/// JSONC as JSON: `//` comments and trailing commas dropped (outside strings), as Zed writes them.
private func plainJSON(_ jsonc: String) -> String {
    /// `text` without the runs outside strings that `skip` measures at an index (0 keeps the character).
    func filtered(_ text: [Character], skip: (Int) -> Int) -> [Character] {
        var out: [Character] = []
        var index = 0
        var inString = false
        while index < text.count {
            let skipped = inString ? 0 : skip(index)
            if skipped > 0 { index += skipped; continue }
            if text[index] == "\"" { inString.toggle() }
            if inString && text[index] == "\\" && index + 1 < text.count { out.append(text[index]); index += 1 }
            out.append(text[index])
            index += 1
        }
        return out
    }
    let source = Array(jsonc)
    let uncommented = filtered(source) { index in
        guard source[index] == "/", index + 1 < source.count, source[index + 1] == "/" else { return 0 }
        return (source[index...].firstIndex(of: "\n") ?? source.count) - index
    }
    let plain = filtered(uncommented) { index in
        guard uncommented[index] == ",", let next = uncommented[(index + 1)...].first(where: { !$0.isWhitespace }) else { return 0 }
        return next == "}" || next == "]" ? 1 : 0
    }
    return String(plain)
}

/// The servers object of a configuration file's bytes.
private func servers(_ data: Data?, _ keys: [String]) throws -> [String: Any] {
    let text = String(decoding: try #require(data), as: UTF8.self)
    var node: Any = try JSONSerialization.jsonObject(with: Data(plainJSON(text).utf8))
    for key in keys { node = try #require((node as? [String: Any])?[key], "no \(key) in \(text)") }
    return try #require(node as? [String: Any])
}

/// A JSON value with sorted keys, to compare parsed values with each other and with expected ones.
private func canonical(_ value: Any?) -> String? {
    guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// Where the value of the first `"name": {…}` lies in `bytes`.
private func objectValue(_ name: String, in bytes: [UInt8]) -> Range<Int>? {
    let key = Array("\"\(name)\": {".utf8)
    guard bytes.count >= key.count,
          let keyStart = (0...bytes.count - key.count).first(where: { bytes[$0..<$0 + key.count].elementsEqual(key) }) else { return nil }
    let start = keyStart + key.count - 1
    var depth = 0
    var inString = false
    var index = start
    while index < bytes.count {
        switch bytes[index] {
        case UInt8(ascii: "\\") where inString: index += 1
        case UInt8(ascii: "\""): inString.toggle()
        case UInt8(ascii: "{") where !inString: depth += 1
        case UInt8(ascii: "}") where !inString:
            depth -= 1
            if depth == 0 { return start..<index + 1 }
        default: break
        }
        index += 1
    }
    return nil
}

@Suite("Setup")
struct SetupTests {
    static let clients = ["opencode", "claude-desktop", "cursor", "claude-code", "gemini", "zed", "vscode", "windsurf", "cline"]

    @Test(arguments: SetupTests.clients)
    func rewritesTheLinearEntryAndNothingElse(_ client: String) throws {
        let fixture = try prepared(client)
        let files = sampleFiles(client)
        let before = files.map { fileContents(fixture.home.file($0.path)) }
        let result = try runSetup(fixture, client)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("linear: gets its token from mcp-vault"), "\(result)")
        #expect(result.stdout.contains("other: https://mcp.notinvault.example/mcp is not in the vault; left alone"), "\(result)")
        for (file, old) in zip(files, before) {
            let path = fixture.home.file(file.path)
            let oldBytes = Array(try #require(old))
            let newBytes = Array(try #require(fileContents(path)))
            let oldServers = try servers(old, file.keys)
            let newServers = try servers(Data(newBytes), file.keys)
            #expect(canonical(newServers["linear"]) == canonical(file.linear), "\(file.path): \(String(decoding: newBytes, as: UTF8.self))")
            for name in ["other", file.local] {
                #expect(canonical(newServers[name]) != nil && canonical(newServers[name]) == canonical(oldServers[name]), "\(file.path): \(name)")
            }
            // Every byte outside linear's value (the other settings, the layout, comments) is as it was.
            let value = try #require(objectValue("linear", in: oldBytes))
            #expect(newBytes.starts(with: oldBytes[..<value.lowerBound]), "\(file.path)")
            #expect(newBytes.reversed().starts(with: oldBytes[value.upperBound...].reversed()), "\(file.path)")
            #expect(fileContents(path + ".before-mcp-vault") == old, "\(file.path): the backup holds the old bytes")
            #expect(try fileMode(path + ".before-mcp-vault") == 0o600, "\(file.path)")
            #expect(try fileMode(path) == 0o640, "\(file.path): the file keeps its mode")
        }
    }

    @Test(arguments: SetupTests.clients)
    func aSecondRunChangesNothing(_ client: String) throws {
        let fixture = try prepared(client)
        let first = try runSetup(fixture, client)
        try #require(first.status == 0, "\(first)")
        let paths = sampleFiles(client).flatMap { [fixture.home.file($0.path), fixture.home.file($0.path) + ".before-mcp-vault"] }
        let written = paths.map(fileContents)
        let second = try runSetup(fixture, client)
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("linear: already gets its token from mcp-vault (\(linearURL))"), "\(second)")
        #expect(paths.map(fileContents) == written, "the files and their backups are as the first run left them")
    }

    @Test(arguments: SetupTests.clients)
    func aDryRunPrintsTheDiffAndWritesNothing(_ client: String) throws {
        let fixture = try prepared(client)
        let paths = sampleFiles(client).map { fixture.home.file($0.path) }
        let before = paths.map(fileContents)
        let result = try runSetup(fixture, client, ["--dry-run"])
        #expect(result.status == 0, "\(result)")
        for path in paths {
            #expect(result.stdout.contains("--- \(path)\n+++ \(path)\n@@ -"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: path + ".before-mcp-vault"), "\(path)")
        }
        let added = result.stdout.split(separator: "\n").filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }
        #expect(added.contains { $0.contains("\"proxy\"") || $0.contains("\"headersHelper\"") }, "\(result)")
        #expect(result.stdout.hasSuffix("Nothing was changed (dry run).\n"), "\(result)")
        #expect(paths.map(fileContents) == before)
    }

    @Test(arguments: SetupTests.clients)
    func theEntryNameBecomesTheServersNameInTheVault(_ client: String) throws {
        let fixture = try prepared(client)
        let token = ["token", "linear", "--passphrase-file", fixture.passphraseFile]
        #expect(try fixture.mcpVault(token).status != 0, "no server is called linear before setup")
        let result = try runSetup(fixture, client)
        #expect(result.stdout.contains("linear is now the name of \(linearURL) in the vault"), "\(result)")
        let named = try fixture.mcpVault(token)
        #expect(named.status == 0 && named.stdout == "linear-token\n", "\(named)")
    }

    @Test(arguments: SetupTests.clients)
    func aClientWithoutConfigurationIsStatus66(_ client: String) throws {
        let fixture = try VaultFixture()
        try FileManager.default.createDirectory(atPath: projectDirectory(fixture), withIntermediateDirectories: true)
        let result = try runSetup(fixture, client)
        #expect(result.status == 66, "\(result)")
        #expect(result.stderr.contains("no configuration of"), "\(result)")
    }

    /// A configuration made read-only is not replaced behind the owner's back (the atomic
    /// rename would succeed: the directory is writable).
    @Test func aReadOnlyConfigurationIsLeftAsItWas() throws {
        let fixture = try prepared("opencode")
        let path = fixture.home.file(try #require(sampleFiles("opencode").first).path)
        chmod(path, 0o444)
        let before = fileContents(path)
        let result = try runSetup(fixture, "opencode")
        #expect(result.status == 74, "\(result)")
        #expect(result.stderr.contains("\(path) could not be rewritten (it is read-only (mode 444); make it writable (chmod u+w)"), "\(result)")
        #expect(fileContents(path) == before && !FileManager.default.fileExists(atPath: path + ".before-mcp-vault"))
        #expect(try fileMode(path) == 0o444)
    }

    /// `setup` without a client surveys them all; a file it cannot read is named with why, not
    /// passed off as no configuration.
    @Test func theSurveyNamesAnUnreadableConfiguration() throws {
        let fixture = try prepared("opencode")
        let cursor = fixture.home.file(".cursor/mcp.json")
        try FileManager.default.createDirectory(atPath: fixture.home.file(".cursor"), withIntermediateDirectories: true)
        try #"{"mcpServers": {"linear": {"url": "#.write(toFile: cursor, atomically: true, encoding: .utf8)
        let result = try fixture.mcpVault(["setup", "--project", projectDirectory(fixture), "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("linear  \(linearURL)  reaches the server directly (the vault holds it)"), "\(result)")
        #expect(result.stdout.contains("run `mcp-vault setup opencode` to point these at mcp-vault"), "\(result)")
        #expect(result.stdout.contains("cursor (Cursor):\n  \(cursor) is not valid JSON"), "\(result)")
        #expect(!result.stdout.contains("cursor: no configuration found"), "\(result)")
        #expect(result.stdout.contains("vscode: no configuration found"), "\(result)")
    }

    @Test func zedKeepsTheCommentsAroundTheEntries() throws {
        let fixture = try prepared("zed")
        let path = fixture.home.file(sampleFiles("zed")[0].path)
        let old = String(decoding: try #require(fileContents(path)), as: UTF8.self)
        let commentLines = old.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("//") || $0.contains(", //") }
        #expect(commentLines.count == 12, "the sample's comments: \(commentLines)")
        let result = try runSetup(fixture, "zed")
        #expect(result.status == 0, "\(result)")
        let newLines = String(decoding: try #require(fileContents(path)), as: UTF8.self).split(separator: "\n")
        for line in commentLines {
            #expect(newLines.contains(line), "\(line)")
        }
    }

    @Test func zedLeavesAnEntryWithACommentInsideAndPrintsWhatToPaste() throws {
        let fixture = try prepared("zed-comment-inside")
        let path = fixture.home.file(sampleFiles("zed")[0].path)
        let before = fileContents(path)
        let result = try runSetup(fixture, "zed")
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("linear: left alone: it has comments inside"), "\(result)")
        let heading = try #require(result.stdout.range(of: "Put this in its place by hand:\n"), "\(result)")
        let pasted = result.stdout[heading.upperBound...]
        #expect(pasted.contains("\"linear\": {") && pasted.contains("\"command\": \"mcp-vault\"")
                && pasted.contains("\"args\": [\"proxy\", \"\(linearURL)\"]") && pasted.contains("\"source\": \"custom\""), "\(result)")
        #expect(fileContents(path) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".before-mcp-vault"))
    }

    @Test func claudeCodeKeepsTheStaticTokenOnlyInTheBackup() throws {
        let fixture = try prepared("claude-code")
        let path = fixture.home.file(".claude.json")
        let result = try runSetup(fixture, "claude-code")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("note: the old file holds the static token of linear"), "\(result)")
        #expect(!result.output.contains(staticToken), "\(result)")
        #expect(!String(decoding: try #require(fileContents(path)), as: UTF8.self).contains(staticToken))
        #expect(String(decoding: try #require(fileContents(path + ".before-mcp-vault")), as: UTF8.self).contains(staticToken))
        let linear = try servers(fileContents(path), ["mcpServers"])["linear"] as? [String: Any]
        #expect(linear?["headersHelper"] as? String == linearHelper)
    }

    /// `--login` signs in to a server the vault does not hold yet (the bundled authorization
    /// server, with curl as the browser), names it as the entry does, then rewrites the entry.
    @Test func withLoginAServerNotYetInTheVaultIsSignedInToFirst() async throws {
        let server = try await TestAuthorizationServer()
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let path = fixture.home.file(".cursor/mcp.json")
        try FileManager.default.createDirectory(atPath: fixture.home.file(".cursor"), withIntermediateDirectories: true)
        try #"{"mcpServers": {"demo": {"url": "\#(server.mcpURL)"}}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await runAsync(Binaries.mcpVault, ["setup", "cursor", "--login", "--project", fixture.home.path,
                                                            "--passphrase-file", fixture.passphraseFile, "--command", "mcp-vault"],
                                        environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("demo: signing in to \(server.mcpURL)") && result.stdout.contains("demo: gets its token from mcp-vault"), "\(result)")
        let demo = try #require(try servers(fileContents(path), ["mcpServers"])["demo"] as? [String: Any])
        #expect(demo["args"] as? [String] == ["proxy", server.mcpURL], "\(demo)")
        let token = try fixture.mcpVault(["token", "demo", "--passphrase-file", fixture.passphraseFile])
        let accepted = try await server.accepts(token.stdout.trimmingCharacters(in: .newlines))
        #expect(token.status == 0 && accepted, "\(token)")
    }

    /// mcp-remote's URL is its first argument that is not an option's value: `--resource URL2`
    /// before it names something else, and a header's value may hold a URL.
    @Test func theMcpRemoteURLIsTheFirstPositionalArgument() throws {
        let fixture = try prepared("cursor")
        let path = fixture.home.file(".cursor/mcp.json")
        let config = #"{"mcpServers": {"linear": {"command": "npx", "args": ["-y", "mcp-remote@latest", "--resource", "https://other.example.com/mcp", "--header", "X-Origin: https://app.example.com", "\#(linearURL)", "3334", "--allow-http"]}}}"#
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runSetup(fixture, "cursor")
        #expect(result.status == 0, "\(result)")
        let linear = try #require(try servers(fileContents(path), ["mcpServers"])["linear"] as? [String: Any])
        #expect(linear["args"] as? [String] == ["proxy", linearURL, "--header", "X-Origin: https://app.example.com"], "\(linear)")
    }

    /// Each write keeps the file as it was in a backup of its own: what a later run removes (a
    /// static token) is not lost with an older backup.
    @Test func everyChangeHasItsOwnBackup() throws {
        let fixture = try prepared("cursor")
        let path = fixture.home.file(".cursor/mcp.json")
        try #"{"mcpServers": {"other": {"url": "https://mcp.example.com/mcp"}}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        try storeCredential(fixture, url: "https://mcp.example.com/mcp")
        #expect(try runSetup(fixture, "cursor").status == 0)
        let second = #"{"mcpServers": {"linear": {"url": "\#(linearURL)", "headers": {"Authorization": "Bearer ONLY-COPY"}}}}"#
        try second.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runSetup(fixture, "cursor")
        #expect(result.stdout.contains("kept as \(path).before-mcp-vault.2"), "\(result)")
        #expect(String(decoding: try #require(fileContents(path + ".before-mcp-vault.2")), as: UTF8.self) == second)
        #expect(String(decoding: try #require(fileContents(path + ".before-mcp-vault")), as: UTF8.self).contains("mcp.example.com"))
    }

    /// Zed's older form, `"command": {"path", "args", "env"}`, keeps its shape.
    @Test func zedsOlderCommandObjectKeepsItsShape() throws {
        let fixture = try prepared("zed")
        let path = fixture.home.file(".config/zed/settings.json")
        let config = #"{"context_servers": {"linear": {"command": {"path": "npx", "args": ["-y", "mcp-remote", "\#(linearURL)"], "env": {"A": "1"}}, "settings": {}}}}"#
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runSetup(fixture, "zed")
        #expect(result.status == 0, "\(result)")
        let linear = try #require(try servers(fileContents(path), ["context_servers"])["linear"] as? [String: Any])
        let command = try #require(linear["command"] as? [String: Any], "\(linear)")
        #expect(command["path"] as? String == "mcp-vault" && command["args"] as? [String] == ["proxy", linearURL], "\(command)")
        #expect(command["env"] as? [String: String] == ["A": "1"] && linear["settings"] != nil, "\(linear)")
        #expect(try runSetup(fixture, "zed").stdout.contains("linear: already gets its token from mcp-vault"))
    }

    @Test func aDryRunNeverPrintsTheStaticToken() throws {
        let fixture = try prepared("claude-code")
        let result = try runSetup(fixture, "claude-code", ["--dry-run"])
        #expect(result.status == 0 && result.stdout.contains("(values that may be secrets, such as environment variables and headers, are shown as …)"), "\(result)")
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("-") && $0.contains("…") }, "the old entry's secrets are hidden: \(result)")
        #expect(!result.output.contains(staticToken), "\(result)")
    }

    /// mcp-remote's documented way to pass a token: `--header "Authorization:${AUTH_HEADER}"` with
    /// the token in env. The variable goes with the header; the other variables stay.
    @Test func aTokenHeldInAnEnvironmentVariableGoesWithItsHeader() throws {
        let fixture = try prepared("claude-desktop")
        let path = fixture.home.file(".config/Claude/claude_desktop_config.json")
        let config = #"{"mcpServers": {"linear": {"command": "npx", "args": ["-y", "mcp-remote", "https://mcp.linear.app/mcp", "--header", "Authorization:${AUTH_HEADER}"], "env": {"AUTH_HEADER": "Bearer \#(staticToken)", "NODE_NO_WARNINGS": "1"}}}}"#
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runSetup(fixture, "claude-desktop")
        #expect(result.status == 0, "\(result)")
        let linear = try #require(try servers(fileContents(path), ["mcpServers"])["linear"] as? [String: Any])
        #expect(linear["args"] as? [String] == ["proxy", "https://mcp.linear.app/mcp"], "\(linear)")
        #expect(linear["env"] as? [String: String] == ["NODE_NO_WARNINGS": "1"], "\(linear)")
        #expect(!result.output.contains(staticToken))
    }
}
