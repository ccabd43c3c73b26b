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
        _ = try spawn(command, environment: environment, searchPath: true, output: -2, error: -1, passing: -1, newSession: false)
    }

    /// Runs a program (not looked up in PATH) with our standard output and error, standard input
    /// /dev/null, and waits for it. Returns its exit status (128 + the signal when one killed it).
    public static func run(_ command: [String], environment: [String: String]? = nil) throws(Failure) -> Int32 {
        let pid = try spawn(command, environment: environment, searchPath: false, output: -1, error: -1, passing: -1, newSession: false)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A child in a session of its own, so that neither the caller's death nor its terminal's
    /// signals (Ctrl-C, hang-up) reach it; its standard output is a pipe to the caller, and so is
    /// its standard error with `separateError` (else it is the caller's); `passing` becomes its
    /// descriptor 3. A child that outlives the caller's patience then writes into pipes nobody
    /// reads, and holds none of the caller's own descriptors open.
    public final class Detached: @unchecked Sendable {
        public let pid: Int32
        private let output: Int32
        private let error: Int32
        private var received: [UInt8] = []
        /// What the child wrote to standard error, with `separateError`, so far.
        public private(set) var errorOutput: [UInt8] = []

        public init(_ command: [String], passing descriptor: Int32, environment: [String: String]? = nil,
                    separateError: Bool = false) throws(Failure) {
            let outputEnds = try Self.pipe(for: command)
            var errorEnds: [Int32] = [-1, -1]
            if separateError {
                do {
                    errorEnds = try Self.pipe(for: command)
                } catch {
                    outputEnds.forEach { _ = close($0) }
                    throw error
                }
            }
            defer {
                close(outputEnds[1])
                if errorEnds[1] >= 0 { close(errorEnds[1]) }
            }
            do {
                pid = try spawn(command, environment: environment, searchPath: false, output: outputEnds[1], error: errorEnds[1],
                                passing: descriptor, newSession: true)
            } catch {
                close(outputEnds[0])
                if errorEnds[0] >= 0 { close(errorEnds[0]) }
                throw error
            }
            output = outputEnds[0]
            error = errorEnds[0]
        }

        deinit {
            close(output)
            if error >= 0 { close(error) }
        }

        private static func pipe(for command: [String]) throws(Failure) -> [Int32] {
            var ends: [Int32] = [-1, -1]
            guard Glibc.pipe(&ends) == 0 else { throw Failure(program: command.first ?? "", code: errno) }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            return ends
        }

        /// Reads the child's output (and error) until it closes its output or `seconds` pass (nil:
        /// it is still running then, and goes on). Returns what it wrote and its exit status
        /// (128 + the signal when one killed it).
        public func finish(within seconds: Double, limit: Int = 1 << 16) -> (output: [UInt8], status: Int32)? {
            let deadline = Self.now() + seconds
            var buffer = [UInt8](repeating: 0, count: 4096)
            var errorOpen = error >= 0
            while true {
                let remaining = deadline - Self.now()
                if remaining <= 0 { return nil }
                var descriptors = [pollfd(fd: output, events: Int16(POLLIN), revents: 0),
                                   pollfd(fd: errorOpen ? error : -1, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&descriptors, 2, Int32(min(remaining * 1000, 60_000)) + 1)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { continue }
                if descriptors[1].revents != 0 {
                    let count = read(error, &buffer, buffer.count)
                    if count > 0 {
                        if errorOutput.count < limit { errorOutput += buffer[0..<count] }
                    } else if !(count < 0 && errno == EINTR) {
                        errorOpen = false
                    }
                }
                guard descriptors[0].revents != 0 else { continue }
                let count = read(output, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                if received.count < limit { received += buffer[0..<count] }
            }
            // The output is closed: what is left of the error output is already in its pipe.
            while errorOpen {
                var descriptor = pollfd(fd: error, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 100) == 1 else { break }
                let count = read(error, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                if errorOutput.count < limit { errorOutput += buffer[0..<count] }
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

    private static func spawn(_ command: [String], environment: [String: String]?, searchPath: Bool, output: Int32, error: Int32,
                              passing: Int32, newSession: Bool) throws(Failure) -> Int32 {
        guard let program = command.first else { throw Failure(program: "", code: EINVAL) }
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: Int32 = 0
        // ETXTBSY: the program was just written and a descriptor of it open for writing is still
        // held somewhere (a child forked meanwhile by another thread); it is gone in a moment.
        for attempt in 0..<5 {
            pid = if let envp {
                mv_spawn(program, argv, envp, searchPath ? 1 : 0, output, error, passing, newSession ? 1 : 0)
            } else {
                mv_spawn(program, argv, environ, searchPath ? 1 : 0, output, error, passing, newSession ? 1 : 0)
            }
            guard pid == -ETXTBSY && attempt < 4 else { break }
            usleep(20_000)
        }
        guard pid > 0 else { throw Failure(program: program, code: -pid) }
        return pid
    }
}
