import ArgumentParser

/// The options and help of a command that both programs know: mcp-vault shows it (help,
/// completions, manual) and hands it over, mcp-vault-oauth runs it.
public protocol SharedCommandArguments: ParsableArguments {
    static var configuration: CommandConfiguration { get }
}

extension LoginArguments: SharedCommandArguments {}
extension LogoutArguments: SharedCommandArguments {}
extension ProxyArguments: SharedCommandArguments {}
