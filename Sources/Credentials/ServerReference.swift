import Vault

/// What a user types to name a stored server: its URL, or the name it was given
/// (`login --name linear`), as in every MCP client's configuration.
public enum ServerReference {
    /// A name: letters, digits, `.`, `_` and `-`, at most 64, starting with a letter or digit.
    public static func isValidName(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard (1...64).contains(scalars.count), isAlphanumeric(scalars[0]) else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// Whether `text` is meant as a URL (it has a scheme) rather than a name.
    public static func isURL(_ text: String) -> Bool { text.contains("://") }

    /// Checks the syntax only (no vault needed): a usable URL or a valid name.
    public static func validate(_ text: String) throws(CredentialsError) {
        if isURL(text) {
            _ = try ServerURL(text)
        } else if !isValidName(text) {
            throw .invalidServerURL(text, reason: "it is neither a URL (https://…) nor a server name (letters, digits, '.', '_', '-')")
        }
    }

    /// The stored server URL or name closest to `text`, for a "did you mean" when nothing is
    /// stored under `text` itself.
    public static func closest(to text: String, in vault: Vault) -> String? {
        var candidates: [String] = []
        for (_, result) in (try? StoredRecord.credentials(in: vault)) ?? [] {
            guard let record = try? result.get() else { continue }
            candidates.append(record.serverURL)
            if let name = record.name { candidates.append(name) }
        }
        let typed = (try? ServerURL(text).canonical) ?? text
        return Nearest.match(typed, among: candidates.filter { isURL($0) == isURL(typed) })
    }

    /// The server `text` names: the URL itself (with `account`, nil for the default one), or the
    /// stored record of that name, whose account it is bound to (`account`, when given, must be it).
    public static func resolve(_ text: String, account: String? = nil, in vault: Vault) throws -> ServerURL {
        let account = try ServerURL.account(account)
        if isURL(text) { return try ServerURL(text, account: account) }
        var names: [String] = []
        for (_, result) in try StoredRecord.credentials(in: vault) {
            guard let record = try? result.get(), let name = record.name else { continue }
            if name == text {
                let server = try record.server()
                if let account, account != server.account {
                    throw CredentialsError.accountMismatch(name: name, bound: server.account, asked: account)
                }
                return server
            }
            names.append(name)
        }
        throw CredentialsError.unknownName(text, known: names.sorted())
    }
}

extension ServerReference {
    /// What giving a stored server a name (one found in a client's configuration) came to.
    public enum Naming: Sendable, Equatable {
        case named
        /// The record already has this name.
        case unchanged
        /// The record has another name, which stays.
        case keptOther(String)
        /// Another server has the name.
        case taken(by: String)
        case invalid
        case noRecord
    }

    /// Names `server`'s record `name` unless it has a name already or another server has this one.
    public static func assignName(_ name: String, to server: ServerURL, in vault: Vault) throws -> Naming {
        guard isValidName(name) else { return .invalid }
        if let holder = try? resolve(name, in: vault) { return holder == server ? .unchanged : .taken(by: holder.description) }
        var outcome = Naming.noRecord
        try vault.update(server.recordName) { current in
            guard let current else { return .keep }
            var record = try CredentialRecord.decode(current.payload, id: current.id)
            if let existing = record.name {
                outcome = existing == name ? .unchanged : .keptOther(existing)
                return .keep
            }
            record.name = name
            outcome = .named
            return .write(try record.encodedForStorage())
        }
        return outcome
    }
}
