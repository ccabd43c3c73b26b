internal import CProcessShim
#if canImport(Glibc)
import Glibc
#endif

/// Starting other programs so that they inherit nothing of ours but what they are given: every
/// descriptor from 3 up is closed in the child (a passphrase descriptor, the callback's listening
/// socket, connections to servers), standard input is /dev/null.
public enum Subprocess {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let program: String
        public let code: Int32
        public init(program: String, code: Int32) {
            self.program = program
            self.code = code
        }
        public var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
    }

    /// Starts a program and does not wait for it (a browser, say), its output going to /dev/null.
    /// `command` is looked up in PATH.
    public static func launch(_ command: [String], environment: [String: String]? = nil) throws(Failure) {
        _ = try spawn(command, environment: environment, searchPath: true, output: -2, passing: -1, newSession: false)
    }

    /// Runs a program (not looked up in PATH) with our standard output and error, standard input
    /// /dev/null, and waits for it. Returns its exit status (128 + the signal when one killed it).
    public static func run(_ command: [String], environment: [String: String]? = nil) throws(Failure) -> Int32 {
        let pid = try spawn(command, environment: environment, searchPath: false, output: -1, passing: -1, newSession: false)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A child in a session of its own, so that neither the caller's death nor its terminal's
    /// signals (Ctrl-C, hang-up) reach it; its standard output is a pipe to the caller, its
    /// standard error the caller's; `passing` becomes its descriptor 3.
    public final class Detached: @unchecked Sendable {
        public let pid: Int32
        private let output: Int32
        private var received: [UInt8] = []
        private var exitStatus: Int32?

        public init(_ command: [String], passing descriptor: Int32, environment: [String: String]? = nil) throws(Failure) {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw Failure(program: command.first ?? "", code: errno) }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            defer { close(ends[1]) }
            do {
                pid = try spawn(command, environment: environment, searchPath: false, output: ends[1], passing: descriptor, newSession: true)
            } catch {
                close(ends[0])
                throw error
            }
            output = ends[0]
        }

        deinit { close(output) }

        /// Reads the child's output until it closes it or `seconds` pass (nil: it is still
        /// running then, and goes on). Returns what it wrote and its exit status.
        public func finish(within seconds: Double, limit: Int = 1 << 16) -> (output: [UInt8], status: Int32)? {
            let deadline = Self.now() + seconds
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let remaining = deadline - Self.now()
                if remaining <= 0 { return nil }
                var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, 60_000)) + 1)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { continue }
                let count = read(output, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                if received.count < limit { received += buffer[0..<count] }
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return (received, code)
        }

        private static func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
    }

    /// The path of the running executable.
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func spawn(_ command: [String], environment: [String: String]?, searchPath: Bool, output: Int32,
                              passing: Int32, newSession: Bool) throws(Failure) -> Int32 {
        guard let program = command.first else { throw Failure(program: "", code: EINVAL) }
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let pid: Int32
        if let environment {
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            pid = mv_spawn(program, argv, envp, searchPath ? 1 : 0, output, passing, newSession ? 1 : 0)
        } else {
            pid = mv_spawn(program, argv, environ, searchPath ? 1 : 0, output, passing, newSession ? 1 : 0)
        }
        guard pid > 0 else { throw Failure(program: program, code: -pid) }
        return pid
    }
}
