import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// Writes an executable "browser" script into the fixture's HOME and returns its path.
private func browserScript(_ session: ServerSession, _ name: String, _ body: String) throws -> String {
    let path = session.fixture.home.file(name)
    try writeExecutable("#!/bin/sh\n" + body + "\n", to: path)
    return path
}

@Suite("Other local users and the browser")
struct LocalUserTests {
    /// The state is in the browser's argv, which every local user can read in /proc: another
    /// user who sends our receiver a response is refused, and the login goes on.
    @Test(.enabled(if: getuid() == 0, "needs root to act as another user (setpriv)"))
    func aResponseFromAnotherUserIsRefusedAndTheLoginGoesOn() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let home = session.fixture.home.path
        let script = try browserScript(session, "attacked-browser", """
            location=$(/usr/bin/curl -s -o /dev/null -w '%{redirect_url}' "$1")
            /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/curl -s -o /dev/null -w '%{http_code}' "$location" > \(home)/attacker-status
            /usr/bin/curl -s "$location" >/dev/null
            """)
        // --timeout and --verbose: should the response never come, login says so itself, with its log.
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile,
                                                           "--timeout", "60", "--verbose"],
                                       environment: session.environment.merging(["BROWSER": script]) { $1 })
        #expect(login.status == 0, "\(login)")
        #expect(login.stderr.contains("refused a sign-in response from another local user (uid 65534)"), "\(login)")
        #expect(try String(contentsOfFile: home + "/attacker-status", encoding: .utf8) == "403")
    }

    /// The attack of the last round: another user sends its response and resets the connection
    /// at once, so that the socket is gone from /proc/net/tcp before the receiver looks. Five
    /// such tries, each refused (the owner was found as the connection arrived, or it cannot be
    /// found, which is refused as well); the user's own response then signs in.
    @Test(.enabled(if: getuid() == 0, "needs root to act as another user (setpriv)"))
    func aResponseFromAnotherUserThatResetsAtOnceIsRefused() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let home = session.fixture.home.path
        // The attacker's program where another user can read it.
        let attackerHome = try TemporaryDirectory(prefix: "attacker")
        defer { withExtendedLifetime(attackerHome) {} }
        chmod(attackerHome.path, 0o755)
        let attacker = attackerHome.file("attacker.py")
        try """
            import socket, struct, sys, urllib.parse
            target = urllib.parse.urlsplit(sys.argv[1])
            forged = target.path + "?" + urllib.parse.urlencode({"code": "attacker-code", "state": urllib.parse.parse_qs(target.query)["state"][0]})
            for _ in range(5):
                connection = socket.create_connection((target.hostname, target.port))
                connection.sendall(f"GET {forged} HTTP/1.1\\r\\nHost: {target.netloc}\\r\\n\\r\\n".encode())
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()  # a reset, at once
            """.write(toFile: attacker, atomically: true, encoding: .utf8)
        chmod(attacker, 0o644)
        let script = try browserScript(session, "attacked-browser", """
            location=$(/usr/bin/curl -s -o /dev/null -w '%{redirect_url}' "$1")
            /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 \(attacker) "$location" 2>\(home)/attacker-err
            sleep 1
            /usr/bin/curl -s "$location" >/dev/null
            """)
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile,
                                                           "--timeout", "60", "--verbose"],
                                       environment: session.environment.merging(["BROWSER": script]) { $1 })
        #expect(login.status == 0, "the attacker's code was not taken: \(login)")
        let refusals = login.stderr.components(separatedBy: "refused a sign-in response from").count - 1
        #expect(refusals >= 1, "\(login)")
        #expect(!login.stderr.contains("attacker-code"), "\(login)")
        #expect(try String(contentsOfFile: home + "/attacker-err", encoding: .utf8).isEmpty, "the attack ran")
    }

    /// A stray response with another state gets an error page; the right one still signs in.
    @Test func aWrongStateDoesNotEndTheLogin() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let script = try browserScript(session, "forging-browser", """
            location=$(/usr/bin/curl -s -o /dev/null -w '%{redirect_url}' "$1")
            /usr/bin/curl -s "$(echo "$location" | sed 's/state=[^&]*/state=forged/')" >/dev/null
            /usr/bin/curl -s "$location" >/dev/null
            """)
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile],
                                       environment: session.environment.merging(["BROWSER": script]) { $1 })
        #expect(login.status == 0, "\(login)")
        #expect(login.stderr.contains("refused a sign-in response whose state is not this login's"), "\(login)")
    }

    @Test func onlyWrongStatesTimeOutAndSaySo() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let script = try browserScript(session, "forging-browser", """
            location=$(/usr/bin/curl -s -o /dev/null -w '%{redirect_url}' "$1")
            /usr/bin/curl -s "$(echo "$location" | sed 's/state=[^&]*/state=forged/')" >/dev/null
            """)
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile,
                                                           "--timeout", "10"],
                                       environment: session.environment.merging(["BROWSER": script]) { $1 })
        #expect(login.status == 75, "\(login)")
        #expect(login.stderr.contains("no authorization response arrived within 10 s (1 that did not belong to this login were refused)"), "\(login)")
    }

    /// xdg-open gets a 0600 file that redirects, not the URL (whose state every user could read).
    @Test func xdgOpenGetsAPrivateFileInsteadOfTheURL() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let home = session.fixture.home.path
        let bin = home + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = bin + "/xdg-open"
        try writeExecutable("""
            #!/bin/sh
            echo "$@" > \(home)/xdg-open-argv
            file=${1#file://}
            stat -c %a "$file" > \(home)/redirect-mode
            url=$(sed -n 's/.*url=\\([^"]*\\)".*/\\1/p' "$file" | sed 's/&amp;/\\&/g')
            /usr/bin/curl -sL "$url" >/dev/null
            """, to: script)
        var environment = session.environment
        environment["BROWSER"] = nil
        environment["PATH"] = bin + ":/usr/bin:/bin"
        environment["DISPLAY"] = ":99"  // a desktop, so that the browser flow is chosen
        environment["XDG_RUNTIME_DIR"] = home
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile],
                                       environment: environment)
        #expect(login.status == 0, "\(login)")
        let argv = try String(contentsOfFile: home + "/xdg-open-argv", encoding: .utf8)
        #expect(argv.hasPrefix("file://") && !argv.contains("state="), "\(argv)")
        #expect(try String(contentsOfFile: home + "/redirect-mode", encoding: .utf8) == "600\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.hasPrefix("mcp-vault-sign-in") }
        #expect(leftovers.isEmpty, "the redirect file is removed after the login: \(leftovers)")
    }

    /// The browser inherits no descriptor: not the passphrase's, not the listening socket, not a
    /// connection to the authorization server.
    @Test func theBrowserInheritsNothing() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let home = session.fixture.home.path
        let script = try browserScript(session, "inspecting-browser", """
            /bin/ls -l /proc/$$/fd/ > \(home)/browser-fds
            /usr/bin/curl -sL "$1" >/dev/null
            """)
        let login = try await runAsync("/bin/sh", ["-c", "exec \"$0\" login \"$1\" --passphrase-fd 7 7<\"$2\"", Binaries.mcpVault,
                                                   session.url, session.fixture.passphraseFile],
                                       environment: session.environment.merging(["BROWSER": script]) { $1 })
        #expect(login.status == 0, "\(login)")
        // `ls -l` lines end "N -> TARGET". The shell's own descriptors are expected: its script,
        // and the copy of its standard output (/dev/null) it keeps while `ls` writes to the file.
        let descriptors = try String(contentsOfFile: home + "/browser-fds", encoding: .utf8).split(separator: "\n")
        let inherited = descriptors.filter { line in
            guard let arrow = line.range(of: " -> ") else { return false }
            let number = Int(line[..<arrow.lowerBound].split(separator: " ").last ?? "") ?? 0
            return number > 2 && !line.hasSuffix("inspecting-browser") && !line.hasSuffix("-> /dev/null")
        }
        #expect(inherited.isEmpty, "\(descriptors)")
    }
}
