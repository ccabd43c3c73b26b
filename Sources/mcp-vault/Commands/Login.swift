import ArgumentParser
import CommandSupport
#if canImport(Glibc)
import Glibc
#endif

/// Stands in for `login`, `logout` and `proxy` in help, completions and the manual, with their
/// real options; `main` hands those commands to mcp-vault-oauth before anything is parsed.
struct HandedOver<Arguments: SharedCommandArguments>: ParsableCommand {
    static var configuration: CommandConfiguration { Arguments.configuration }

    @OptionGroup var arguments: Arguments

    func run() throws {
        OAuthProgram.exec(arguments: Array(CommandLine.arguments.dropFirst()))
    }
}

/// Finds and runs mcp-vault-oauth.
enum OAuthProgram {
    static let name = "mcp-vault-oauth"

    /// Replaces this process with mcp-vault-oauth; returns only if that fails (after saying so).
    static func exec(arguments: [String]) -> Never {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        Console.note("mcp-vault: error: cannot run \(path): \(reason)")
        Console.note("mcp-vault: hint: install \(name) in the same directory as mcp-vault")
        exit(ExitStatus.unavailable.rawValue)
    }

    /// mcp-vault-oauth's path.
    static var path: String { directory() + "/" + name }

    /// This executable's path.
    static var ownPath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// The directory this executable was started from.
    private static func directory() -> String {
        let path = ownPath
        return path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    }
}
