import ArgumentParser
import CommandSupport
#if canImport(Glibc)
import Glibc
#endif

extension MCPVault {
    /// Stands in for `login` in the command list and help; the real command is the program
    /// mcp-vault-oauth next to this one, which `main` execs before parsing.
    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign in to an OAuth-protected MCP server and seal the tokens.",
            discussion: """
                See `mcp-vault login --help` for its options.

                Example:
                  mcp-vault login https://mcp.example.com/mcp
                """)

        @Argument(parsing: .captureForPassthrough, help: "The server URL and login options.")
        var arguments: [String] = []

        func run() async throws {
            OAuthProgram.exec(arguments: ["login"] + arguments)
        }
    }
}

/// Finds and runs mcp-vault-oauth.
enum OAuthProgram {
    static let name = "mcp-vault-oauth"

    /// Replaces this process with mcp-vault-oauth; returns only if that fails (after saying so).
    static func exec(arguments: [String]) -> Never {
        let path = directory() + "/" + name
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

extension MCPVault {
    /// Stands in for `logout` in the command list and help (see `Login`).
    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a server's tokens at the server and delete them.",
            discussion: """
                See `mcp-vault logout --help` for its options.

                Example:
                  mcp-vault logout https://mcp.example.com/mcp
                """)

        @Argument(parsing: .captureForPassthrough, help: "The server URL (or --all) and logout options.")
        var arguments: [String] = []

        func run() async throws {
            OAuthProgram.exec(arguments: ["logout"] + arguments)
        }
    }
}

extension MCPVault {
    /// Stands in for `proxy` in the command list and help (see `Login`).
    struct Proxy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a remote MCP server to a local MCP client over stdio, with the vault's token.",
            discussion: """
                See `mcp-vault proxy --help` for its options.

                Example (in an MCP client's configuration, as a local server):
                  mcp-vault proxy https://mcp.example.com/mcp
                """)

        @Argument(parsing: .captureForPassthrough, help: "The server URL and proxy options.")
        var arguments: [String] = []

        func run() async throws {
            OAuthProgram.exec(arguments: ["proxy"] + arguments)
        }
    }
}
