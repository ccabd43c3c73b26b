// swift-tools-version: 6.0
// mcp-vault is licensed under the Apache License, Version 2.0 (see LICENSE); SwiftPM has no field for it.
import Foundation
import PackageDescription

// Layers (see DESIGN.md): mcp-vault (CLI) -> Credentials -> Vault -> C shims.
// C is reached only through the small system-library and shim targets below.
let package = Package(
    name: "mcp-vault",
    products: [
        .executable(name: "mcp-vault", targets: ["mcp-vault"]),
        .executable(name: "mcp-vault-oauth", targets: ["mcp-vault-oauth"]),
        .library(name: "Vault", targets: ["Vault"]),
        .library(name: "Credentials", targets: ["Credentials"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // P-256 and RSA signatures (ES256, RS256) for client assertions and DPoP proofs: libsodium has neither.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Tests only: the official MCP Swift SDK's client drives the proxy.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // C libraries, wrapped once each.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CKeyutils", pkgConfig: "libkeyutils", providers: [.apt(["libkeyutils-dev"])]),
        // libsecret's API is GObject C; a small C shim gives Swift a flat, deadline-bound API over it.
        // Its headers only: the shim loads libsecret on first use rather than linking it, so the
        // library is not a pkgConfig system library (that would link it into every program).
        .target(name: "CSecretShim", cSettings: [.unsafeFlags(compilerFlags(forPkgConfig: "libsecret-1"))]),
        // prctl(2) is variadic and so cannot be called from Swift; posix_spawn's GNU extensions.
        .target(name: "CProcessShim"),
        // Starting browsers and the refresh worker with nothing inherited but what they are given.
        .target(name: "Processes", dependencies: ["CProcessShim"]),

        // The canonical server URL and which hosts are loopback: shared by the vault side and the OAuth engine.
        .target(name: "ServerAddress"),

        // Sealed records, key slots, locking, atomic files. Knows nothing of OAuth or HTTP.
        .target(
            name: "Vault",
            dependencies: [
                "CSodium", "CKeyutils", "CSecretShim", "CProcessShim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Reads the plaintext token files of older tools and imports them into the vault.
        .target(name: "LegacyImport", dependencies: ["Vault", "ClientConfig"]),
        // MCP clients' configuration files: where they are, which servers they reach, and the
        // in-place rewrite that points them at mcp-vault (`setup`).
        .target(name: "ClientConfig", dependencies: ["Vault", "ServerAddress"]),
        // The OAuth flow engine: HTTP, JSON, the RFCs. Knows nothing of storage or terminals.
        .target(
            name: "OAuth",
            dependencies: [
                "CSodium", "ServerAddress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // mcp-vault proxy: stdio MCP to Streamable HTTP (or HTTP+SSE), with the vault's token.
        .target(
            name: "Proxy",
            dependencies: [
                "OAuth", "ServerAddress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A real authorization server and MCP resource on 127.0.0.1, for the tests and the demo.
        .target(
            name: "AuthorizationServer",
            dependencies: [
                "CSodium", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "mcp-vault-demo-server", dependencies: ["AuthorizationServer"], path: "Sources/DemoServer"),
        // Composes the vault with the OAuth engine: the credential record, unlock policy, status.
        .target(
            name: "Credentials",
            dependencies: ["Vault", "LegacyImport", "ServerAddress", .product(name: "Logging", package: "swift-log")]
        ),
        // Login: composes the OAuth engine with the vault and the credential record.
        .target(name: "Session", dependencies: ["OAuth", "Credentials", "Vault", "Processes", .product(name: "Logging", package: "swift-log")]),
        // What the command-line programs share: options, passphrase sources, output, exit statuses.
        .target(
            name: "CommandSupport",
            dependencies: [
                "Credentials", "Vault", "Processes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command-line tool: parse, call, print. It links no networking code, so that the
        // commands run on every MCP request (token, status) start fast; `login` runs in
        // mcp-vault-oauth, which it execs.
        .executableTarget(
            name: "mcp-vault",
            dependencies: [
                "CommandSupport", "Credentials", "Vault", "LegacyImport", "ClientConfig", "Processes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "mcp-vault-oauth",
            dependencies: [
                "CommandSupport", "Session", "OAuth", "Credentials", "Vault", "Processes", "Proxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/OAuthTool"
        ),

        // Test support: a helper executable that drives the vault from many processes, and shared test code.
        .executableTarget(name: "vault-test-tool", dependencies: ["Credentials", "Vault", "OAuth"], path: "Sources/VaultTestTool"),
        .target(name: "TestSupport", dependencies: ["Vault", "AuthorizationServer"]),  // AuthorizationServer: its options only
        .testTarget(name: "VaultTests", dependencies: ["Vault", "Credentials", "ServerAddress", "TestSupport", "ClientConfig", "LegacyImport"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["TestSupport", "Vault", "Credentials", "OAuth", "mcp-vault", "mcp-vault-oauth", "vault-test-tool",
                           "AuthorizationServer", "mcp-vault-demo-server",
                           .product(name: "MCP", package: "swift-sdk"), .product(name: "SystemPackage", package: "swift-system")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// `pkg-config --cflags NAME`: the header search paths of a library used without being linked.
func compilerFlags(forPkgConfig name: String) -> [String] {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["pkg-config", "--cflags", name]
    process.standardOutput = output
    guard (try? process.run()) != nil else { return [] }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [] }
    return String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
}
