import Foundation

/// The built executables next to the test bundle.
public enum Binaries {
    public static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }()

    public static var mcpVault: String { directory + "/mcp-vault" }
    public static var testTool: String { directory + "/vault-test-tool" }

    /// The repository root (for scripts/ and migrations/).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}

/// What a finished child process printed and how it exited.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let seconds: Double

    public var output: String { stdout + stderr }

    public init(status: Int32, stdout: String, stderr: String, seconds: Double) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
    }
    public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// A child whose output goes to files, collected when it ends.
private struct CapturedRun {
    let scratch: TemporaryDirectory
    let child: ChildProcess
    let start = Date()

    init(_ executable: String, _ arguments: [String], environment: [String: String], input: String?) throws {
        scratch = try TemporaryDirectory(prefix: "proc")
        if let input { try input.write(toFile: scratch.file("in"), atomically: false, encoding: .utf8) }
        child = try ChildProcess(executable, arguments, environment: environment, input: input == nil ? "/dev/null" : scratch.file("in"),
                                 output: .file(scratch.file("out")), error: .file(scratch.file("err")))
    }

    func result(_ status: Int32?, _ description: String, timeout: Double) throws -> ProcessResult {
        let written = { (name: String) in (try? String(contentsOfFile: scratch.file(name), encoding: .utf8)) ?? "" }
        guard let status else {
            child.signal(SIGKILL)
            // What it had said by then is what tells a hang from a slow machine.
            throw TestFailure("\(description) did not finish within \(timeout) s\nstdout so far:\n\(written("out"))\nstderr so far:\n\(written("err"))")
        }
        let (out, err) = (written("out"), written("err"))
        return ProcessResult(status: status, stdout: out, stderr: err, seconds: Date().timeIntervalSince(start))
    }
}

/// Runs a program to completion with exactly `environment` (nothing inherited), standard input
/// from `input` (or /dev/null, so it is never a terminal), and output captured through files.
public func run(_ executable: String, _ arguments: [String], environment: [String: String], input: String? = nil,
                timeout: Double = 120) throws -> ProcessResult {
    let captured = try CapturedRun(executable, arguments, environment: environment, input: input)
    return try captured.result(captured.child.wait(timeout: timeout), "\(executable) \(arguments)", timeout: timeout)
}

/// `run` for async tests: the child is awaited without blocking a cooperative thread.
public func runAsync(_ executable: String, _ arguments: [String], environment: [String: String], input: String? = nil,
                     timeout: Double = 120) async throws -> ProcessResult {
    let captured = try CapturedRun(executable, arguments, environment: environment, input: input)
    return try captured.result(await captured.child.waitAsync(timeout: timeout), "\(executable) \(arguments)", timeout: timeout)
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A private temporary directory (0700), removed with everything in it when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "mcp-vault-test") throws {
        let base = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((base + "/\(prefix).XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        path = String(cString: created)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}


/// Writes an executable file (a script a test then runs) through a descriptor opened close-on-exec:
/// a file written through a descriptor that a child forked meanwhile inherits stays open for
/// writing in that child, and running it then fails with ETXTBSY ("Text file busy").
public func writeExecutable(_ text: String, to path: String) throws {
    unlink(path)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
    guard descriptor >= 0 else { throw TestFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { throw TestFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        written += count
    }
}
