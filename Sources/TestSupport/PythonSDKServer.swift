import Foundation

/// Tests/Peers/python_sdk_server.py: an OAuth-protected MCP server built on the official MCP
/// Python SDK, which no one on this team wrote, in a child process on a free port of 127.0.0.1.
/// Its virtual environment comes from scripts/python-peers (scripts/test makes it first).
public final class PythonSDKServer: @unchecked Sendable {
    public let port: Int
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    public var mcpURL: String { "http://127.0.0.1:\(port)/mcp" }
    public var base: String { "http://127.0.0.1:\(port)" }

    /// `arguments`: more of the server's options (`--transport sse --sse-path /mcp`, say).
    public init(tokenLifetime: Int = 3600, arguments: [String] = []) async throws {
        let root = Binaries.repositoryRoot
        let python = root + "/.build-python/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is missing: run scripts/python-peers (scripts/test does)")
        }
        directory = try TemporaryDirectory(prefix: "python-peer")
        let portFile = directory.file("port")
        process = try ChildProcess(python, [root + "/Tests/Peers/python_sdk_server.py", "--port-file", portFile,
                                            "--token-lifetime", String(tokenLifetime)] + arguments,
                                   environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path],
                                   error: .file(directory.file("stderr")))
        for _ in 0..<600 {  // up to 30 s: the first import of the SDK compiles its bytecode
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? ""
        process.stop()
        throw TestFailure("the Python SDK server did not start:\n\(log)")
    }

    /// The server's counters (/test/stats).
    public func stats() async throws -> [String: Any] {
        let result = try await runAsync("/usr/bin/curl", ["-s", base + "/test/stats"], environment: [:])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Kills the server at once (a server that dies mid-call).
    public func kill() {
        process.signal(SIGKILL)
        _ = process.wait(timeout: 5)
    }

    deinit {
        process.stop()
    }
}
