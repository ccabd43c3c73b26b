// All libsodium calls and all unsafe pointer work for them live in this file.
internal import CSodium
#if canImport(Glibc)
import Glibc
#endif

/// Bytes that hold a secret: kept in sodium_malloc'd memory (guard pages, never swapped where
/// mlock works), zeroed when freed, compared in constant time, never printed.
public final class SecureBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // Sendable: the memory is written only while the value is being built (before it is shared);
    // afterwards every access goes through `withUnsafeBytes`, which only reads.
    fileprivate let base: UnsafeMutableRawPointer
    public let count: Int

    /// Zero-filled secure memory of `count` bytes.
    public init(count: Int) {
        Sodium.initialize()
        precondition(count >= 0)
        guard let memory = sodium_malloc(max(count, 1)) else {
            fatalError("sodium_malloc failed: out of memory")
        }
        sodium_memzero(memory, max(count, 1))
        base = memory
        self.count = count
    }

    /// Copies `bytes` into secure memory. The caller remains responsible for its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count)
        _ = UnsafeMutableRawBufferPointer(start: base, count: count).initializeMemory(as: UInt8.self, from: bytes)
    }

    /// `count` random bytes from the system CSPRNG.
    public static func random(count: Int) -> SecureBytes {
        let bytes = SecureBytes(count: count)
        randombytes_buf(bytes.base, count)
        return bytes
    }

    deinit {
        sodium_free(base)  // sodium_free zeroes the memory before releasing it
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// For the few places that fill a fresh value (reading a file or a keyring item into it).
    func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Overwrites the bytes with zeros: for a secret that is no longer needed while something
    /// still holds it (the passphrase taken from the environment, once the proxy has unlocked).
    public func wipe() {
        sodium_memzero(base, max(count, 1))
    }

    /// A copy of the first `length` bytes (used after reading into an oversized buffer).
    public func prefix(_ length: Int) -> SecureBytes {
        let copy = SecureBytes(count: min(length, count))
        memcpy(copy.base, base, copy.count)
        return copy
    }

    /// Constant-time comparison.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        count == other.count && sodium_memcmp(base, other.base, count) == 0
    }

    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}

extension SecureBytes {
    fileprivate var bytePointer: UnsafeMutablePointer<UInt8> { base.assumingMemoryBound(to: UInt8.self) }
}

/// Thin, checked wrappers over the libsodium primitives the vault uses.
enum Sodium {
    static let keyLength = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    static let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    static let tagLength = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    static let saltLength = Int(crypto_pwhash_SALTBYTES)

    private static let initialized: Bool = sodium_init() >= 0

    static func initialize() {
        precondition(initialized, "libsodium failed to initialize")
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        initialize()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }

    /// XChaCha20-Poly1305 (IETF) with a fresh random nonce. Returns (nonce, ciphertext + tag).
    static func seal(_ plaintext: UnsafeRawBufferPointer, key: SecureBytes, associatedData: [UInt8]) -> (nonce: [UInt8], ciphertext: [UInt8]) {
        initialize()
        precondition(key.count == keyLength)
        let nonce = randomBytes(nonceLength)
        let ciphertext = [UInt8](unsafeUninitializedCapacity: plaintext.count + tagLength) { output, written in
            var length: UInt64 = 0
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                output.baseAddress!, &length,
                // libsodium's pointers are declared non-null; for an empty message any valid pointer will do.
                (plaintext.baseAddress ?? UnsafeRawPointer(key.bytePointer)).assumingMemoryBound(to: UInt8.self),
                UInt64(plaintext.count),
                associatedData, UInt64(associatedData.count), nil, nonce, key.bytePointer)
            written = Int(length)
        }
        return (nonce, ciphertext)
    }

    static func seal(_ plaintext: [UInt8], key: SecureBytes, associatedData: [UInt8]) -> (nonce: [UInt8], ciphertext: [UInt8]) {
        plaintext.withUnsafeBytes { seal($0, key: key, associatedData: associatedData) }
    }

    static func seal(_ plaintext: SecureBytes, key: SecureBytes, associatedData: [UInt8]) -> (nonce: [UInt8], ciphertext: [UInt8]) {
        plaintext.withUnsafeBytes { seal($0, key: key, associatedData: associatedData) }
    }

    /// Opens into secure memory; nil when authentication fails.
    static func open(_ ciphertext: [UInt8], nonce: [UInt8], key: SecureBytes, associatedData: [UInt8]) -> SecureBytes? {
        initialize()
        precondition(key.count == keyLength)
        guard ciphertext.count >= tagLength, nonce.count == nonceLength else { return nil }
        let plaintext = SecureBytes(count: ciphertext.count - tagLength)
        var length: UInt64 = 0
        let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
            plaintext.bytePointer, &length, nil, ciphertext, UInt64(ciphertext.count),
            associatedData, UInt64(associatedData.count), nonce, key.bytePointer)
        return status == 0 ? plaintext : nil
    }

    /// Keyed BLAKE2b (crypto_generichash) of `message`, `length` bytes long.
    static func keyedHash(_ message: [UInt8], key: SecureBytes, length: Int = 32) -> [UInt8] {
        initialize()
        return [UInt8](unsafeUninitializedCapacity: length) { output, written in
            crypto_generichash(output.baseAddress!, length, message, UInt64(message.count), key.bytePointer, key.count)
            written = length
        }
    }

    /// A 32-byte subkey of `masterKey` (crypto_kdf, BLAKE2b) for `id` in the 8-byte `context`.
    static func deriveSubkey(from masterKey: SecureBytes, id: UInt64, context: StaticString) -> SecureBytes {
        initialize()
        precondition(context.utf8CodeUnitCount == Int(crypto_kdf_CONTEXTBYTES))
        let subkey = SecureBytes(count: 32)
        context.withUTF8Buffer { contextBytes in
            contextBytes.withMemoryRebound(to: CChar.self) { contextChars in
                _ = crypto_kdf_derive_from_key(subkey.bytePointer, 32, id, contextChars.baseAddress!, masterKey.bytePointer)
            }
        }
        return subkey
    }

    static let argon2idAlgorithm = Int32(crypto_pwhash_ALG_ARGON2ID13)
    static let argon2idMinimumOpsLimit = UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN)
    static let argon2idMinimumMemLimit = UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN)
    static let interactiveCost = (ops: UInt64(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE), mem: UInt64(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE))
    static let moderateCost = (ops: UInt64(crypto_pwhash_argon2id_OPSLIMIT_MODERATE), mem: UInt64(crypto_pwhash_argon2id_MEMLIMIT_MODERATE))
    static let sensitiveCost = (ops: UInt64(crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE), mem: UInt64(crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE))

    /// Argon2id13 of `passphrase` into a 32-byte key; nil when libsodium cannot allocate the memory.
    static func argon2id(passphrase: SecureBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64) -> SecureBytes? {
        initialize()
        precondition(salt.count == saltLength)
        let key = SecureBytes(count: 32)
        let status = passphrase.withUnsafeBytes { input in
            crypto_pwhash(key.bytePointer, 32, input.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(input.count),
                          salt, opsLimit, Int(memLimit), argon2idAlgorithm)
        }
        return status == 0 ? key : nil
    }

    /// SHA-256 (crypto_hash_sha256), for legacy file names; not used for secrets.
    static func sha256(_ message: [UInt8]) -> [UInt8] {
        initialize()
        return [UInt8](unsafeUninitializedCapacity: 32) { output, written in
            crypto_hash_sha256(output.baseAddress!, message, UInt64(message.count))
            written = 32
        }
    }

    /// Zeroes an ordinary array in place (for the few transient copies outside SecureBytes).
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }
}
