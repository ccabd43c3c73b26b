// swift-tools-version: 6.0
import PackageDescription

// Layers (see DESIGN.md): mcp-vault (CLI) -> Credentials -> Vault -> C shims.
// C is reached only through the small system-library and shim targets below.
let package = Package(
    name: "mcp-vault",
    products: [
        .executable(name: "mcp-vault", targets: ["mcp-vault"]),
        .library(name: "Vault", targets: ["Vault"]),
        .library(name: "Credentials", targets: ["Credentials"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries, wrapped once each.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CKeyutils", pkgConfig: "libkeyutils", providers: [.apt(["libkeyutils-dev"])]),
        .systemLibrary(name: "CSecret", pkgConfig: "libsecret-1", providers: [.apt(["libsecret-1-dev"])]),
        // libsecret's API is GObject C; a small C shim gives Swift a flat, deadline-bound API over it.
        .target(name: "CSecretShim", dependencies: ["CSecret"]),
        // prctl(2) is variadic and so cannot be called from Swift.
        .target(name: "CProcessShim"),

        // Sealed records, key slots, locking, atomic files. Knows nothing of OAuth or HTTP.
        .target(
            name: "Vault",
            dependencies: [
                "CSodium", "CKeyutils", "CSecretShim", "CProcessShim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Reads the plaintext token files of older tools and imports them into the vault.
        .target(name: "LegacyImport", dependencies: ["Vault"]),
        // Composes the vault with the OAuth engine: the credential record, unlock policy, status.
        .target(
            name: "Credentials",
            dependencies: ["Vault", "LegacyImport", .product(name: "Logging", package: "swift-log")]
        ),
        // The command-line tool: parse, call, print.
        .executableTarget(
            name: "mcp-vault",
            dependencies: [
                "Credentials", "Vault", "LegacyImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Test support: a helper executable that drives the vault from many processes, and shared test code.
        .executableTarget(name: "vault-test-tool", dependencies: ["Credentials", "Vault"], path: "Sources/VaultTestTool"),
        .target(name: "TestSupport", dependencies: ["Vault"]),
        .testTarget(name: "VaultTests", dependencies: ["Vault", "Credentials", "TestSupport"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["TestSupport", "Vault", "Credentials", "mcp-vault", "vault-test-tool"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
