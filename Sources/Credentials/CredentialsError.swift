/// Failures of the Credentials layer, as sentences for the user. Never contains a secret.
public enum CredentialsError: Error, Sendable, CustomStringConvertible {
    case invalidServerURL(String, reason: String)
    case malformedCredential(id: String, reason: String)
    case noCredential(server: String, closest: String? = nil)
    case recordTooLarge(field: String, size: Int, limit: Int)
    case unknownName(String, known: [String])
    case invalidAccount(String)
    case accountMismatch(name: String, bound: String?, asked: String?)
    case invalidSecretName(String)
    case noSecret(String, closest: String?)
    case notACredential(id: String)

    public var description: String {
        switch self {
        case .invalidServerURL(let text, let reason):
            return "'\(text)' is not a usable server URL: \(reason)"
        case .malformedCredential(let id, let reason):
            return "record \(id) opened, but its contents are not a credential: \(reason)"
        case .noCredential(let server, _):
            return "the vault holds no credentials for \(server)"
        case .unknownName(let name, let known):
            if let closest = Nearest.match(name, among: known) { return "no stored server is named '\(name)'; did you mean '\(closest)'?" }
            return "no stored server is named '\(name)'" + (known.isEmpty ? " (no server has a name yet)" : " (names: \(known.joined(separator: ", ")))")
        case .invalidAccount(let text):
            return "'\(text)' is not an account name (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)"
        case .accountMismatch(let name, let bound, let asked):
            return "the name '\(name)' is bound to \(bound.map { "the account \($0)" } ?? "the default account"), not to \(asked.map { "the account \($0)" } ?? "the default account")"
        case .invalidSecretName(let text):
            return "'\(text)' is not a secret name (1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit)"
        case .noSecret(let name, _):
            return "the vault holds no secret named \(name)"
        case .notACredential(let id):
            return "record \(id) is a secret, not a server's credentials"
        case .recordTooLarge(let field, let size, let limit):
            return "the credentials would take \(size) bytes, more than the \(limit) a record may hold (\(field) is the largest field); nothing was stored"
        }
    }

    public var hint: String? {
        switch self {
        case .invalidServerURL, .invalidAccount, .invalidSecretName, .notACredential: return nil
        case .accountMismatch(let name, _, _): return "give the name alone (`\(name)`), or the server's URL with --account"
        case .noSecret(_, let closest?): return "did you mean \(closest)? (`mcp-vault secret list` lists them)"
        case .noSecret(let name, nil): return "store it with `mcp-vault secret set \(name)` (`mcp-vault secret list` lists the secrets)"
        case .malformedCredential: return "remove the record and log in to that server again"
        case .unknownName: return "give the server's URL, or name it with `mcp-vault login URL --name NAME`"
        case .recordTooLarge: return "the server sent far more than any sign-in needs; ask its operator"
        case .noCredential(_, let closest?): return "did you mean \(closest)? (`mcp-vault status` lists what is stored)"
        case .noCredential(let server, nil): return "sign in with `mcp-vault login \(server)` (`mcp-vault status` lists what is stored; `mcp-vault migrate` imports the tokens of older tools)"
        }
    }
}
