import Foundation
import Testing
import TestSupport

/// `setup` leaves no secret in any of seven clients' configurations (Tests/Fixtures/secrets-home:
/// 24 secrets among ordinary settings, and look-alikes that are not secrets), and every rewritten
/// local entry, started as the official Python SDK starts a stdio server, gets its secrets in
/// its environment and nowhere else.
@Suite("setup moves secrets")
struct SecretSetupTests {
    static let clients = ["opencode", "claude-desktop", "cursor", "claude-code", "gemini", "zed", "vscode"]
    static let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"
    static let fixtureHome = Binaries.repositoryRoot + "/Tests/Fixtures/secrets-home"

    struct Expected: Decodable {
        struct Item: Decodable {
            let client: String
            let file: String
            let entry: String
            let variable: String
            let value: String
            let kind: String
        }
        let secrets: [Item]
        let lookalikes: [Item]
    }

    /// The fixture home copied into `home`, its placeholders filled in.
    static func install(into home: String, project: String) throws {
        let manager = FileManager.default
        guard let enumerator = manager.enumerator(atPath: fixtureHome) else { throw TestFailure("no \(fixtureHome)") }
        while let relative = enumerator.nextObject() as? String {
            let source = fixtureHome + "/" + relative
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue,
                  !["EXPECTED.json", "README.md"].contains(relative) else { continue }
            let text = try String(contentsOfFile: source, encoding: .utf8)
                .replacingOccurrences(of: "@PYTHON@", with: python)
                .replacingOccurrences(of: "@REPORT_SERVER@", with: Binaries.repositoryRoot + "/Tests/Peers/env_report_server.py")
                .replacingOccurrences(of: "@REMOTE_URL@", with: "https://api.example.com/mcp")
                .replacingOccurrences(of: "@PROJECT@", with: project)
            let destination = home + "/" + relative
            try manager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: destination, atomically: false, encoding: .utf8)
        }
    }

    /// Every regular file below `directory` but the vault and setup's backups, with its bytes.
    static func files(below directory: String, except vault: String) -> [(String, Data)] {
        var found: [(String, Data)] = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            guard !path.hasPrefix(vault + "/"), !relative.contains(".before-mcp-vault") else { continue }
            if let data = FileManager.default.contents(atPath: path) { found.append((relative, data)) }
        }
        return found
    }

    @Test func noSecretIsLeftAndEveryEntryGetsItsOwn() async throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtureHome + "/EXPECTED.json")))
        #expect(expected.secrets.count >= 20 && expected.lookalikes.count >= 5)
        let fixture = try VaultFixture()
        // The vault where a client's launch finds it: at its default place in HOME, unlocked into
        // the session cache (the SDK passes no MCP_VAULT_DIR and no passphrase).
        let vault = fixture.home.path + "/.local/share/mcp-vault"
        fixture.extraEnvironment["MCP_VAULT_DIR"] = vault
        try fixture.createPassphraseVault()
        let project = fixture.home.path + "/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try Self.install(into: fixture.home.path, project: project)
        let pass = ["--passphrase-file", fixture.passphraseFile]

        // Before: doctor names them (the global files; never a value).
        let before = try fixture.mcpVault(["doctor"])
        #expect(before.stdout.contains("[warning] client secrets") && before.stdout.contains(": cursor: ")
                && before.stdout.contains("gitlab env GITLAB_PERSONAL_ACCESS_TOKEN"), "\(before)")

        // A dry run writes nothing and shows no value.
        let snapshot = Self.files(below: fixture.home.path, except: vault)
        let dry = try fixture.mcpVault(["setup", "cursor", "--dry-run", "--project", project] + pass)
        #expect(dry.status == 0 && dry.stdout.contains("gitlab: would run through `mcp-vault run`"), "\(dry)")
        #expect(Self.files(below: fixture.home.path, except: vault).elementsEqual(snapshot) { $0 == $1 })

        for client in Self.clients {
            let result = try fixture.mcpVault(["setup", client, "--project", project] + pass)
            #expect(result.status == 0, "\(client): \(result)")
            for secret in expected.secrets { #expect(!result.stdout.contains(secret.value) && !result.stderr.contains(secret.value)) }
        }

        // No byte of any file outside the vault and the backups holds a secret; the look-alikes stay.
        let after = Self.files(below: fixture.home.path, except: vault)
        for (path, data) in after {
            let text = String(decoding: data, as: UTF8.self)
            for secret in expected.secrets {
                #expect(!text.contains(secret.value) && !text.contains(String(secret.value.prefix(24))), "\(path) holds \(secret.entry) \(secret.variable)")
            }
        }
        for lookalike in expected.lookalikes {
            let text = try String(contentsOfFile: fixture.home.path + "/" + lookalike.file, encoding: .utf8)
            #expect(text.contains(lookalike.value), "\(lookalike.file): \(lookalike.entry) \(lookalike.variable) was changed")
        }
        // The backups keep the old files, readable by their owner only.
        for file in Set(expected.secrets.map(\.file)) {
            let attributes = try FileManager.default.attributesOfItem(atPath: fixture.home.path + "/" + file + ".before-mcp-vault")
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file)")
        }
        let list = try fixture.mcpVault(["secret", "list"] + pass)
        #expect(list.stdout.split(separator: "\n").count == expected.secrets.count, "\(list)")

        // A second run changes nothing.
        for client in Self.clients {
            let again = try fixture.mcpVault(["setup", client, "--project", project] + pass)
            #expect(again.status == 0 && !again.stdout.contains("written"), "\(client): \(again)")
        }
        #expect(Self.files(below: fixture.home.path, except: vault).elementsEqual(after) { $0 == $1 })
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("client secrets") && doctor.stdout.contains(": no client configuration keeps an API key or a token")
                && !doctor.stdout.contains("[warning] client secrets"), "\(doctor)")

        // Every local entry, started as the Python SDK starts it, has its secrets in its
        // environment and in no command line.
        #expect(try fixture.mcpVault(["unlock", "--for", "10m"] + pass).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let files = Dictionary(expected.secrets.map { ($0.client, $0.file) }, uniquingKeysWith: { first, _ in first })
        for client in Self.clients {
            let file = try #require(files[client])
            // The entries that were local (the remote ones now run the proxy, for servers not reached here).
            let local = Set((expected.secrets + expected.lookalikes).filter { $0.client == client && $0.kind == "env" }.map(\.entry))
            let launch = try await runAsync(Self.python, [Binaries.repositoryRoot + "/Tests/Peers/launch_entries.py", "--client", client,
                                                          "--file", fixture.home.path + "/" + file] + local.sorted().flatMap { ["--entry", $0] },
                                            environment: ["HOME": fixture.home.path, "PATH": "/usr/bin:/bin"], timeout: 300)
            #expect(launch.status == 0, "\(client): \(launch)")
            var reports: [String: [String: Any]] = [:]
            for line in launch.stdout.split(separator: "\n") {
                guard let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let entry = report["entry"] as? String else { continue }
                reports[entry] = report
            }
            for secret in expected.secrets where secret.client == client && secret.kind == "env" {
                let report = reports[secret.entry]
                let environment = report?["env"] as? [String: String]
                let commandLine = (report?["cmdline"] as? [String])?.joined(separator: " ") ?? ""
                #expect(environment?[secret.variable] == secret.value, "\(client) \(secret.entry) \(secret.variable): \(String(describing: report?["error"]))")
                #expect(!commandLine.contains(secret.value) && commandLine.contains("env_report_server.py"), "\(commandLine)")
            }
            for lookalike in expected.lookalikes where lookalike.client == client && lookalike.kind == "env" {
                #expect((reports[lookalike.entry]?["env"] as? [String: String])?[lookalike.variable] == lookalike.value || lookalike.value.contains("{env:")
                        || lookalike.value.contains("${"), "\(client) \(lookalike.entry) \(lookalike.variable)")
            }
        }
    }
}
