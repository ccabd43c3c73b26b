import Vault

/// `{secret:NAME}` in a header value (`proxy --header`, `token --with-header`): the vault's
/// secret NAME, filled in when the command starts, so that a client's configuration names the
/// secret and never holds it.
public enum SecretReferences {
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// 'Name: value' split at the first colon, both trimmed; refused without a name.
    public static func header(_ text: String) throws(Refusal) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw Refusal(description: "'\(text.prefix(40))' is not 'Name: value'")
        }
        let name = text[..<colon].trimmingWhitespace()
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != ":" }) else {
            throw Refusal(description: "'\(name.prefix(40))' is not a header name")
        }
        let value = text[text.index(after: colon)...].trimmingWhitespace()
        for reference in names(in: value) where !SecretRecord.isValidName(reference) {
            throw Refusal(description: "{secret:\(reference.prefix(40))} does not name a secret (1 to 128 letters, digits, '.', '_', '-' or '/')")
        }
        return (name, value)
    }

    /// 'Name: value' headers (`token --with-header`), their `{secret:NAME}` filled in from `vault`.
    public static func filledHeaders(_ texts: [String], from vault: Vault) throws -> [(name: String, value: String)] {
        try texts.map { text in
            let header = try header(text)
            return (header.name, try fill(header.value, from: vault))
        }
    }

    /// The secret names `text` refers to, in order.
    public static func names(in text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let start = rest.firstRange(of: "{secret:") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            found.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return found
    }

    /// `text` with every `{secret:NAME}` replaced by the secret's value from `vault`; a missing
    /// secret is an error naming it (never a header sent without it).
    public static func fill(_ text: String, from vault: Vault) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "{secret:"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            out += rest[..<start.lowerBound]
            out += try StoredRecord.secret(String(rest[start.upperBound..<end]), in: vault).value
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex { !$0.properties.isWhitespace }!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
