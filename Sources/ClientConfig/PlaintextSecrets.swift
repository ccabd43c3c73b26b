/// Telling secrets from ordinary settings in a client's configuration: environment variables of
/// local servers and headers of remote ones.
public enum PlaintextSecrets {
    /// Words in a variable's or header's name that say it holds a secret.
    static let secretWords = ["TOKEN", "KEY", "SECRET", "PASSWORD", "PASS", "AUTH", "CREDENTIAL"]

    /// Prefixes of well-known token formats (GitHub, OpenAI and others' `sk-`, Slack, GitLab).
    static let tokenPrefixes = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk-", "xoxb-", "xoxp-", "xapp-", "glpat-"]

    /// Whether `value` takes its content from the environment (`${VAR}`, VS Code's `${env:VAR}`
    /// and `${input:…}`, opencode's `{env:VAR}`, Gemini CLI's `$VAR`) or from the vault
    /// (`{secret:NAME}`): then the secret is elsewhere, and the value stays.
    public static func referencesEnvironment(_ value: String) -> Bool {
        if value.contains("${") || value.contains("{env:") || value.contains("{secret:") { return true }
        guard value.first == "$", let first = value.dropFirst().first, first == "_" || first.isASCII && first.isLetter else { return false }
        return value.dropFirst().allSatisfy { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// Whether the variable or header `name` set to `value` holds a secret: by its name (with a
    /// value of 8 characters or more that is not a number), by a known token shape, or as a URL
    /// with a password. Authorization always does.
    public static func isSecret(name: String, value: String) -> Bool {
        guard !value.isEmpty, !referencesEnvironment(value) else { return false }
        if name.lowercased() == "authorization" { return true }
        if hasSecretShape(value) { return true }
        let upper = name.uppercased()
        guard secretWords.contains(where: { upper.contains($0) }) else { return false }
        return value.count >= 8 && !value.allSatisfy(\.isNumber)
    }

    /// A token of a known format, a JWT, or a URL with a password.
    static func hasSecretShape(_ value: String) -> Bool {
        if tokenPrefixes.contains(where: { value.hasPrefix($0) }) && value.count >= 12 { return true }
        if value.hasPrefix("eyJ"), value.split(separator: ".", omittingEmptySubsequences: false).count == 3, !value.contains(" ") { return true }
        return urlPassword(value) != nil
    }

    /// The password of `scheme://user:password@host…`, if the value is such a URL.
    static func urlPassword(_ value: String) -> Substring? {
        guard let scheme = value.firstRange(of: "://"), value[..<scheme.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
              !value[..<scheme.lowerBound].isEmpty else { return nil }
        let rest = value[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return nil }
        let password = authority[authority.index(after: colon)..<at]
        return password.isEmpty ? nil : password
    }

    /// A secret's name in the vault for variable `variable` of entry `entry`: `ENTRY/VARIABLE`,
    /// with every character a name cannot hold made '-'.
    public static func secretName(entry: String, variable: String) -> String {
        func clean(_ text: String, limit: Int) -> String {
            var cleaned = String(text.unicodeScalars.map { scalar -> Character in
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar)
                    ? Character(scalar) : "-"
            }.prefix(limit))
            if cleaned.isEmpty || !(cleaned.first!.isLetter || cleaned.first!.isNumber) { cleaned = "x" + cleaned }
            return cleaned
        }
        return clean(entry, limit: 60) + "/" + clean(variable, limit: 60)
    }
}
