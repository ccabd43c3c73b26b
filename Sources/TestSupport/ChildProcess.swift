import Foundation

/// A child process started with posix_spawn. Foundation's Process is not used: on Linux its run()
/// can crash (an over-read of d_name in findMaximumOpenFromProcSelfFD, swift-corelibs-foundation
/// #5472) and its waitUntilExit() can hang once a child has been reaped.
public final class ChildProcess: @unchecked Sendable {
    public enum Output {
        case null
        case file(String)
        case pipe
    }

    public let pid: pid_t
    private var outputPipe: Int32 = -1
    private var inputPipe: Int32 = -1
    private var buffered: [UInt8] = []
    private var status: Int32?

    /// Starts `executable` with exactly `environment`; standard input from the file `input`.
    /// With `pipedInput`, standard input is a pipe that `write(_:)` feeds (and `input` is ignored).
    public init(_ executable: String, _ arguments: [String], environment: [String: String], input: String = "/dev/null",
                output: Output = .null, error: Output = .null, pipedInput: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inputEnds: [Int32] = [-1, -1]
        if pipedInput {
            guard pipe(&inputEnds) == 0 else { throw TestFailure("pipe failed") }
            _ = fcntl(inputEnds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(inputEnds[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, inputEnds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        }
        var pipeEnds: [Int32] = [-1, -1]
        for (descriptor, target) in [(Int32(1), output), (Int32(2), error)] {
            switch target {
            case .null: posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .pipe:
                guard pipe(&pipeEnds) == 0 else { throw TestFailure("pipe failed") }
                // Close-on-exec, so that no other child inherits this pipe (dup2 clears it for ours).
                _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
                posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], descriptor)
            }
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, envp)
        if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
        if inputEnds[0] >= 0 { close(inputEnds[0]) }
        guard result == 0 else {
            if pipeEnds[0] >= 0 { close(pipeEnds[0]) }
            throw TestFailure("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        outputPipe = pipeEnds[0]
        inputPipe = inputEnds[1]
    }

    /// Our end of the child's standard output (with `.pipe`) and of its standard input (with
    /// `pipedInput`), for a client library that reads and writes them itself.
    public var outputDescriptor: Int32 { outputPipe }
    public var inputDescriptor: Int32 { inputPipe }

    /// Writes to the child's standard input (with `pipedInput`).
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(inputPipe, $0.baseAddress, $0.count) }
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
        if outputPipe >= 0 { close(outputPipe) }
        if inputPipe >= 0 { close(inputPipe) }
    }

    /// The next line of standard output (with `.pipe`), or nil at its end or when none came
    /// within `timeout` seconds.
    public func readLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while !buffered.contains(UInt8(ascii: "\n")) {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var descriptor = pollfd(fd: outputPipe, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(outputPipe, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            buffered += chunk[0..<count]
        }
        return readLine()
    }

    /// Closes the child's standard input (with `pipedInput`): its end of input.
    public func closeInput() {
        if inputPipe >= 0 { close(inputPipe) }
        inputPipe = -1
    }

    /// The next line of standard output (with `.pipe`), or nil at its end.
    public func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(outputPipe, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                guard !buffered.isEmpty else { return nil }
                defer { buffered = [] }
                return String(decoding: buffered, as: UTF8.self)
            }
            buffered += chunk[0..<count]
        }
    }

    public func signal(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// Waits for the child to end: its exit status (128 + signal when killed), or nil after `timeout`.
    @discardableResult
    public func wait(timeout: Double = 120) -> Int32? {
        if let status { return status }
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let decoded = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                status = decoded
                return decoded
            }
            if result < 0 && errno != EINTR { return nil }
            usleep(1000)
        } while Date() < deadline
        return nil
    }

    /// `wait(timeout:)` for async tests: sleeps between polls instead of blocking a thread, so
    /// that servers running in the test process (on the same cooperative threads) keep serving.
    public func waitAsync(timeout: Double = 120) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let status = wait(timeout: 0) { return status }
            try? await Task.sleep(for: .milliseconds(2))
        } while Date() < deadline
        return nil
    }

    /// SIGTERM, then SIGKILL when the child is still there after two seconds.
    public func stop() {
        guard status == nil else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if wait(timeout: 2) == nil {
            kill(pid, SIGKILL)
            wait(timeout: 5)
        }
    }
}
