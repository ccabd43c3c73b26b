// The one file that makes file-system and process system calls. Every call retries EINTR and
// failures become `SystemCallError`, carrying errno and the call's name.
#if canImport(Glibc)
import Glibc
#endif
internal import CProcessShim

/// A failed system call: which call, on what, and errno.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public let call: String
    public let path: String
    public let code: Int32

    public var description: String {
        "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
    }

    var isNotFound: Bool { code == ENOENT }
    var isSymbolicLink: Bool { code == ELOOP }
    var isExists: Bool { code == EEXIST }
}

/// An open file descriptor, closed when the owner goes away.
final class FileDescriptor: Sendable {
    let raw: Int32
    init(_ raw: Int32) { self.raw = raw }
    deinit { _ = Glibc.close(raw) }
}

/// What the vault needs from fstat.
struct FileStatus: Sendable {
    let isDirectory: Bool
    let isRegularFile: Bool
    let isSymbolicLink: Bool
    let isSocket: Bool
    let owner: UInt32
    let permissions: UInt32  // the low 12 bits of st_mode
    let size: Int
    /// Seconds since the epoch.
    let modified: Int64
    /// Hard links to the file.
    let links: Int
}

enum SystemCalls {
    @discardableResult
    private static func retrying(_ call: String, _ path: String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw SystemCallError(call: call, path: path, code: errno)
        }
    }

    private static func status(of raw: stat) -> FileStatus {
        let type = raw.st_mode & S_IFMT
        return FileStatus(
            isDirectory: type == S_IFDIR, isRegularFile: type == S_IFREG, isSymbolicLink: type == S_IFLNK,
            isSocket: type == S_IFSOCK,
            owner: raw.st_uid, permissions: raw.st_mode & 0o7777, size: Int(raw.st_size), modified: Int64(raw.st_mtim.tv_sec),
            links: Int(raw.st_nlink))
    }

    static var effectiveUserID: UInt32 { geteuid() }

    // MARK: Directories

    /// Creates every missing directory of `path` with mode 0700 (like `mkdir -p -m 700`).
    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                try retrying("mkdir", prefix) { mkdir(prefix, 0o700) }
            } catch let error as SystemCallError where error.isExists {
                continue
            }
        }
    }

    /// Opens a directory without following a symbolic link at its last component.
    static func openDirectory(_ path: String) throws -> FileDescriptor {
        FileDescriptor(try retrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) })
    }

    static func openDirectory(_ name: String, in directory: FileDescriptor, create: Bool) throws -> FileDescriptor {
        if create {
            do {
                try retrying("mkdirat", name) { mkdirat(directory.raw, name, 0o700) }
            } catch let error as SystemCallError where error.isExists {}
        }
        return FileDescriptor(try retrying("openat", name) {
            openat(directory.raw, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        })
    }

    static func status(_ descriptor: FileDescriptor, path: String) throws -> FileStatus {
        var raw = stat()
        try retrying("fstat", path) { fstat(descriptor.raw, &raw) }
        return status(of: raw)
    }

    /// lstat of a path (the link itself when it is one); nil when nothing is there.
    static func linkStatus(_ path: String) throws -> FileStatus? {
        var raw = stat()
        do {
            try retrying("lstat", path) { lstat(path, &raw) }
        } catch let error as SystemCallError where error.isNotFound {
            return nil
        }
        return status(of: raw)
    }

    static func linkStatus(_ name: String, in directory: FileDescriptor) throws -> FileStatus? {
        var raw = stat()
        do {
            try retrying("fstatat", name) { fstatat(directory.raw, name, &raw, AT_SYMLINK_NOFOLLOW) }
        } catch let error as SystemCallError where error.isNotFound {
            return nil
        }
        return status(of: raw)
    }

    /// The names in a directory, without "." and "..".
    static func entries(of directory: FileDescriptor, path: String) throws -> [String] {
        let copy = try retrying("dup", path) { dup(directory.raw) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            _ = Glibc.close(copy)
            throw SystemCallError(call: "fdopendir", path: path, code: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        // Read d_name in place: a dirent record is only d_reclen bytes long, so copying the
        // whole 256-byte d_name field (entry.pointee.d_name) can read past the end of a page.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(stream) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: Files

    /// Opens a file for reading without following a symbolic link, and without blocking on a
    /// FIFO or a device put in its place (the caller checks that it is a regular file).
    static func openForReading(_ name: String, in directory: FileDescriptor) throws -> FileDescriptor {
        FileDescriptor(try retrying("openat", name) {
            openat(directory.raw, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        })
    }

    /// `nonBlocking`: a FIFO or device put at `path` does not block the open (check the type after).
    static func openForReading(path: String, followingLinks: Bool = false, nonBlocking: Bool = false) throws -> FileDescriptor {
        let flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (followingLinks ? 0 : O_NOFOLLOW) | (nonBlocking ? O_NONBLOCK : 0)
        return FileDescriptor(try retrying("open", path) { open(path, flags) })
    }

    /// Reads at most `limit` bytes; `exceeded` is true when the file holds more.
    static func readAll(_ descriptor: FileDescriptor, path: String, limit: Int) throws -> (bytes: [UInt8], exceeded: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                try retrying("read", path) { Int32(truncatingIfNeeded: read(descriptor.raw, buffer.baseAddress, buffer.count)) }
            }
            if count == 0 { return (bytes, false) }
            bytes.append(contentsOf: chunk[0..<Int(count)])
            if bytes.count > limit { return (Array(bytes.prefix(limit)), true) }
        }
    }

    /// Reads a secret (at most `limit` bytes) straight into secure memory, from a descriptor.
    static func readSecret(from raw: Int32, path: String, limit: Int) throws -> SecureBytes {
        let buffer = SecureBytes(count: limit + 1)
        var filled = 0
        try buffer.withUnsafeMutableBytes { memory in
            while filled < memory.count {
                let count = try retrying("read", path) {
                    Int32(truncatingIfNeeded: read(raw, memory.baseAddress! + filled, memory.count - filled))
                }
                if count == 0 { break }
                filled += Int(count)
            }
        }
        return buffer.prefix(filled)
    }

    /// Writes `bytes` to `name` in `directory` so that a crash leaves the old or the new file:
    /// a temporary file (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), write, fsync, rename, fsync the directory.
    static func replaceAtomically(_ name: String, in directory: FileDescriptor, temporaryName: String, bytes: [UInt8],
                                  synchronizeDirectory: Bool = true) throws {
        let descriptor = try createTemporary(temporaryName, in: directory, reserving: 0)
        try commitTemporary(descriptor, temporaryName, as: name, in: directory, bytes: bytes, synchronizeDirectory: synchronizeDirectory)
    }

    /// Creates the temporary file `temporaryName` (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) with `size`
    /// bytes allocated, so that writing up to that much into it later cannot fail for want of
    /// space. On failure nothing is left behind.
    static func createTemporary(_ temporaryName: String, in directory: FileDescriptor, reserving size: Int) throws -> FileDescriptor {
        let descriptor = FileDescriptor(try retrying("openat", temporaryName) {
            openat(directory.raw, temporaryName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        })
        guard size > 0 else { return descriptor }
        var result: Int32
        repeat { result = posix_fallocate(descriptor.raw, 0, off_t(size)) } while result == EINTR
        if result != 0 {
            _ = unlinkat(directory.raw, temporaryName, 0)
            throw SystemCallError(call: "posix_fallocate", path: temporaryName, code: result)
        }
        return descriptor
    }

    /// Writes `bytes` at the start of the temporary file, cuts it to their length, fsyncs it and
    /// renames it over `name` (then fsyncs the directory). On failure the temporary file is removed.
    static func commitTemporary(_ descriptor: FileDescriptor, _ temporaryName: String, as name: String, in directory: FileDescriptor,
                                bytes: [UInt8], synchronizeDirectory: Bool = true) throws {
        do {
            var written = 0
            try bytes.withUnsafeBytes { buffer in
                while written < buffer.count {
                    let count = try retrying("pwrite", temporaryName) {
                        Int32(truncatingIfNeeded: pwrite(descriptor.raw, buffer.baseAddress! + written, buffer.count - written, off_t(written)))
                    }
                    written += Int(count)
                }
            }
            try retrying("ftruncate", temporaryName) { ftruncate(descriptor.raw, off_t(bytes.count)) }
            try retrying("fsync", temporaryName) { fsync(descriptor.raw) }
            try retrying("renameat", name) { renameat(directory.raw, temporaryName, directory.raw, name) }
        } catch {
            _ = unlinkat(directory.raw, temporaryName, 0)
            throw error
        }
        if synchronizeDirectory {
            try retrying("fsync", "directory of \(name)") { fsync(directory.raw) }
        }
    }

    /// Removes a temporary file that will not be committed.
    static func discardTemporary(_ temporaryName: String, in directory: FileDescriptor) {
        _ = unlinkat(directory.raw, temporaryName, 0)
    }

    /// Renames `name` to `newName` within `directory`, then makes the directory durable.
    static func renameWithin(_ name: String, to newName: String, in directory: FileDescriptor) throws {
        try retrying("renameat", name) { renameat(directory.raw, name, directory.raw, newName) }
        try retrying("fsync", "directory of \(newName)") { fsync(directory.raw) }
    }

    /// Removes `name`; false when it was not there.
    @discardableResult
    static func remove(_ name: String, in directory: FileDescriptor) throws -> Bool {
        do {
            try retrying("unlinkat", name) { unlinkat(directory.raw, name, 0) }
            return true
        } catch let error as SystemCallError where error.isNotFound {
            return false
        }
    }

    /// Closes a descriptor this program was given (errors ignored: there is nothing to do).
    static func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    static func synchronize(_ descriptor: FileDescriptor, path: String) throws {
        try retrying("fsync", path) { fsync(descriptor.raw) }
    }

    // MARK: Locks

    /// Opens (creating it 0600 if needed) a lock file and takes an flock on it.
    /// Returns nil when `wait` is false and another process holds the lock.
    static func lock(_ name: String, in directory: FileDescriptor, exclusive: Bool, wait: Bool) throws -> FileDescriptor? {
        let descriptor = FileDescriptor(try retrying("openat", name) {
            openat(directory.raw, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        })
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        do {
            try retrying("flock", name) { flock(descriptor.raw, operation) }
        } catch let error as SystemCallError where error.code == EAGAIN {
            return nil
        }
        return descriptor  // closing the descriptor releases the lock
    }

    // MARK: Process

    /// A write to a pipe whose reader is gone fails with EPIPE instead of killing the process, so
    /// that the failure is reported (and a refresh in progress is not cut short).
    static func ignoreBrokenPipes() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed; returns those.
    static func occupyStandardDescriptors() -> [Int32] {
        var closed: [Int32] = []
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) < 0 && errno == EBADF {
            closed.append(descriptor)
            let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            if opened >= 0 && opened != descriptor {
                _ = dup2(opened, descriptor)
                _ = Glibc.close(opened)
            }
        }
        return closed
    }

    /// Writes every byte of `text` to `descriptor`, retrying short writes and EINTR.
    static func writeAll(_ descriptor: Int32, _ text: String, path: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var written = 0
            while written < bytes.count {
                let count = try retrying("write", path) {
                    Int32(truncatingIfNeeded: write(descriptor, bytes.baseAddress! + written, bytes.count - written))
                }
                written += Int(count)
            }
        }
    }

    /// How to write to `descriptor` without ever waiting for its reader: a pipe gets a
    /// descriptor of our own on it, opened non-blocking through /proc (a new open file
    /// description, so the caller's descriptor keeps its mode); a socket is sent to with
    /// MSG_DONTWAIT; nil for anything else (a terminal, which a person reads, or a file).
    static func nonBlockingWriter(for descriptor: Int32) -> (descriptor: Int32, socket: Bool)? {
        var raw = stat()
        guard fstat(descriptor, &raw) == 0 else { return nil }
        switch raw.st_mode & S_IFMT {
        case S_IFSOCK:
            return (descriptor, true)
        case S_IFIFO:
            let reopened = open("/proc/self/fd/\(descriptor)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            return reopened >= 0 ? (reopened, false) : nil
        default:
            return nil
        }
    }

    /// Writes as much of `bytes` as the writer takes now; returns how many were written.
    static func writeWithoutWaiting(_ writer: (descriptor: Int32, socket: Bool), _ bytes: UnsafeRawBufferPointer) -> Int {
        var written = 0
        while written < bytes.count {
            let start = bytes.baseAddress! + written, length = bytes.count - written
            let count = writer.socket ? send(writer.descriptor, start, length, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                : write(writer.descriptor, start, length)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }  // EAGAIN: the reader is not reading
            written += count
        }
        return written
    }

    /// Keeps secrets out of core dumps and out of reach of ptrace by other same-user processes.
    static func disableCoreDumps() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        _ = mv_set_not_dumpable()
    }

    static func isTerminal(_ raw: Int32) -> Bool { isatty(raw) == 1 }
}

// MARK: Terminal

extension SystemCalls {
    /// Prints `prompt` to the terminal and reads one line with echo off, into secure memory.
    /// Echo is restored even when reading fails.
    static func readWithoutEcho(prompt: String, limit: Int) throws -> SecureBytes {
        let path = "/dev/tty"
        let terminal = FileDescriptor(try retrying("open", path) { open(path, O_RDWR | O_NOCTTY | O_CLOEXEC) })
        var original = termios()
        try retrying("tcgetattr", path) { tcgetattr(terminal.raw, &original) }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        silent.c_lflag |= tcflag_t(ICANON)
        try retrying("tcsetattr", path) { tcsetattr(terminal.raw, TCSAFLUSH, &silent) }
        defer {
            _ = tcsetattr(terminal.raw, TCSAFLUSH, &original)
            _ = write(terminal.raw, "\n", 1)
        }
        _ = prompt.withCString { write(terminal.raw, $0, strlen($0)) }

        let buffer = SecureBytes(count: limit + 1)
        var filled = 0
        try buffer.withUnsafeMutableBytes { memory in
            var byte: UInt8 = 0
            while filled < memory.count {
                let count = try retrying("read", path) { Int32(truncatingIfNeeded: read(terminal.raw, &byte, 1)) }
                if count == 0 || byte == UInt8(ascii: "\n") { break }
                memory[filled] = byte
                filled += 1
            }
            byte = 0
        }
        return buffer.prefix(filled)
    }
}

// MARK: Environment

extension SystemCalls {
    /// Copies an environment variable's value into secure memory, overwrites the value in the
    /// process environment with zeros, and removes the variable, so no child process inherits it.
    static func takeEnvironmentSecret(_ name: String) -> SecureBytes? {
        guard let value = getenv(name) else { return nil }
        let length = strlen(value)
        let secret = SecureBytes(copying: UnsafeRawBufferPointer(start: value, count: length))
        memset(value, 0, length)
        unsetenv(name)
        return secret
    }
}

/// The process environment, read from `environ`: cheaper than ProcessInfo's, which builds its
/// dictionary through Foundation on each call (a cost every `token` run felt).
public enum ProcessEnvironment {
    public static func variables() -> [String: String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(text[..<equals])
                if variables[name] == nil {  // the first of duplicates, as getenv finds it
                    variables[name] = String(text[text.utf8.index(after: equals)...])
                }
            }
            entry += 1
        }
        return variables
    }
}

// MARK: Plain files outside the vault

extension SystemCalls {
    static let shreddingSuffix = ".mcp-vault-shredding"
    static let replaceSuffix = ".mcp-vault-tmp"

    /// Overwrites a regular file's contents with zeros, syncs it, then unlinks it and syncs its
    /// directory. The descriptor is opened with O_NOFOLLOW, so a symbolic link is never written through.
    /// With `unlinkNow` false the file is left zeroed under its `.mcp-vault-shredding` name (not
    /// synced), for `syncFileSystem` and `unlink` to finish in bulk; its path is returned.
    @discardableResult
    static func shred(_ original: String, unlinkNow: Bool = true) throws -> String {
        // Open first (never through a link, never blocking on a FIFO) and check what it is.
        let descriptor = FileDescriptor(try retrying("open", original) {
            open(original, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        })
        var before = stat()
        try retrying("fstat", original) { fstat(descriptor.raw, &before) }
        guard before.st_mode & S_IFMT == S_IFREG else { throw SystemCallError(call: "shred", path: original, code: EINVAL) }
        // Then move it aside under a name that says what is happening, so that a kill between
        // overwriting and unlinking leaves a file the next run recognizes and finishes
        // (PlainFiles.finishShredding), not a file of zeros under the original name.
        let (directoryPath, name) = split(original)
        let path = name.hasPrefix(".") && name.hasSuffix(shreddingSuffix) ? original : directoryPath + "/." + name + shreddingSuffix
        if path != original {
            try retrying("rename", original) { rename(original, path) }
            var after = stat()
            guard lstat(path, &after) == 0, after.st_ino == before.st_ino, after.st_dev == before.st_dev else {
                _ = rename(path, original)  // someone swapped the file meanwhile: put back what we moved
                throw SystemCallError(call: "shred", path: original, code: EAGAIN)
            }
        }
        // A file with other hard links (a backup made with cp -al, say) is only unlinked: zeroing
        // it would destroy the other copies.
        if before.st_nlink == 1 {
            try writeZeros(descriptor, count: Int(before.st_size), path: path)
            if unlinkNow { try retrying("fsync", path) { fsync(descriptor.raw) } }
        }
        if unlinkNow { try retrying("unlink", path) { Glibc.unlink(path) } }
        // The directory is synced by the caller, once for many files (PlainFiles.synchronizeDirectory).
        return path
    }

    /// syncfs(2): every dirty page of the file system that holds `path` reaches the disk.
    static func syncFileSystem(of path: String) throws {
        let descriptor = try openDirectory(split(path).directory)
        try retrying("syncfs", path) { mv_syncfs(descriptor.raw) }
    }

    static func removeFile(path: String) throws {
        try retrying("unlink", path) { Glibc.unlink(path) }
    }

    /// Replaces the file at `path` atomically (temporary file, fsync, rename, directory fsync),
    /// with `permissions` (0600 unless given). With `wipingOld`, the old file's bytes are
    /// overwritten with zeros once the new one is in place (through a descriptor opened before the
    /// rename), so that what was removed from it does not stay in its freed blocks.
    static func replace(path: String, bytes: [UInt8], wipingOld: Bool = false, permissions: UInt32 = 0o600) throws {
        let (directoryPath, name) = split(path)
        let directory = try openDirectory(directoryPath)
        var old: (descriptor: FileDescriptor, size: Int)?
        if wipingOld, let descriptor = try? FileDescriptor(retrying("open", path) { open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }) {
            var status = stat()
            // Only a regular file with no other hard link: zeroing would destroy the other copies.
            if fstat(descriptor.raw, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_nlink == 1 {
                old = (descriptor, Int(status.st_size))
            }
        }
        let temporaryName = "." + name + "." + Encoding.hex(Sodium.randomBytes(6)) + replaceSuffix
        let temporary = try createTemporary(temporaryName, in: directory, reserving: 0)
        if permissions != 0o600 {
            do {
                try retrying("fchmod", temporaryName) { fchmod(temporary.raw, mode_t(permissions & 0o777)) }
            } catch {
                discardTemporary(temporaryName, in: directory)
                throw error
            }
        }
        try commitTemporary(temporary, temporaryName, as: name, in: directory, bytes: bytes)
        if let old {
            try writeZeros(old.descriptor, count: old.size, path: path)
            try retrying("fsync", path) { fsync(old.descriptor.raw) }
        }
    }

    private static func writeZeros(_ descriptor: FileDescriptor, count size: Int, path: String) throws {
        let zeros = [UInt8](repeating: 0, count: min(size, 64 * 1024))
        var written = 0
        while written < size {
            let count = try zeros.withUnsafeBytes { buffer in
                try retrying("pwrite", path) {
                    Int32(truncatingIfNeeded: pwrite(descriptor.raw, buffer.baseAddress!, min(buffer.count, size - written), off_t(written)))
                }
            }
            written += Int(count)
        }
    }

    static func synchronizeDirectory(of path: String) throws {
        let directory = try openDirectory(split(path).directory)
        try retrying("fsync", split(path).directory) { fsync(directory.raw) }
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

// MARK: Handing a key to a program this one execs

extension SystemCalls {
    /// A pipe holding `secret` (at most a pipe buffer, 64 KiB): the read end stays open across
    /// exec, the write end is closed. Returns the read end.
    static func pipeHolding(_ secret: SecureBytes) throws -> Int32 {
        var ends: [Int32] = [-1, -1]
        try retrying("pipe", "handover") { pipe(&ends) }
        defer { _ = Glibc.close(ends[1]) }
        try secret.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                let count = try retrying("write", "handover") {
                    Int32(truncatingIfNeeded: write(ends[1], bytes.baseAddress! + written, bytes.count - written))
                }
                written += Int(count)
            }
        }
        _ = fcntl(ends[0], F_SETFD, 0)  // inherited by the program exec'd next
        return ends[0]
    }
}
