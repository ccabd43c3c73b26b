import Foundation
import MCP
import SystemPackage
import Testing
import TestSupport

/// The official MCP Swift SDK's client, over stdio pipes to `mcp-vault proxy`, in front of the
/// official MCP Python SDK's server: two parts no one on this team wrote.
@Suite("Proxy under the MCP Swift SDK's client")
struct SwiftSDKClientTests {
    actor Progress {
        var arrivals: [ContinuousClock.Instant] = []
        func arrived() { arrivals.append(.now) }
    }

    @Test func initializeListCallWithProgressElicitAndPing() async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedInToPeer(server)
        defer { _ = try? fixture.mcpVault(["lock"]) }

        // Started as a client starts it: only the SDKs' default variables and a desktop menu's PATH
        // (no MCP_VAULT_DIR: the entry names the vault by argument); the key is in the session cache.
        let clientEnvironment = ["HOME": fixture.home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "USER": "root", "LOGNAME": "root",
                                 "SHELL": "/bin/sh", "TERM": "dumb"]
        let proxy = try ChildProcess(Binaries.mcpVault, ["proxy", "--vault-dir", fixture.vaultPath, server.mcpURL],
                                     environment: clientEnvironment, output: .pipe,
                                     error: .file(fixture.home.file("proxy.err")), pipedInput: true)
        let transport = StdioTransport(input: FileDescriptor(rawValue: proxy.outputDescriptor),
                                       output: FileDescriptor(rawValue: proxy.inputDescriptor))
        let client = Client(name: "swift-sdk-test", version: "1.0",
                            capabilities: .init(elicitation: .init()))
        await client.withElicitationHandler { _ in .init(action: .accept, content: ["answer": .string("from swift")]) }
        let progress = Progress()
        await client.onNotification(ProgressNotification.self) { _ in await progress.arrived() }

        let initialized = try await client.connect(transport: transport)
        #expect(initialized.serverInfo.name == "python-sdk-peer")
        let (tools, _) = try await client.listTools()
        #expect(Set(tools.map(\.name)).isSuperset(of: ["whoami", "slow_count", "ask_user"]), "\(tools.map(\.name))")

        let (counted, _) = try await client.callTool(name: "slow_count", arguments: ["n": .int(3)],
                                                     meta: Metadata(progressToken: .string("swift-progress")))
        let answered = ContinuousClock.now
        let arrivals = await progress.arrivals
        #expect(arrivals.count == 3 && arrivals.allSatisfy { $0 < answered }, "progress before the result: \(arrivals)")
        #expect("\(counted)".contains("counted 3"), "\(counted)")

        let (asked, _) = try await client.callTool(name: "ask_user")
        #expect("\(asked)".contains("from swift"), "the server's request reached the client and its answer came back: \(asked)")

        try await client.ping()
        await client.disconnect()
        proxy.closeInput()
        #expect(await proxy.waitAsync(timeout: 10) == 0)
    }
}
