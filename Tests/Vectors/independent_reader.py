#!/usr/bin/env python3
"""Independent reader for mcp-vault format v1, written from SECURITY.md alone.

Opens the test-vector vault with its passphrase and its keyring secret, derives the subkeys,
decrypts every record and checks the canonical-server-URL algorithm against urls.json. Section
names in comments ("Conventions", "vault.json", ...) are the subsections of SECURITY.md,
"Vault format v1 (specification)".

Usage: independent_reader.py [VECTOR_DIR]   (default: the v1 directory next to this file)
Standard library only, plus libsodium through ctypes.
"""
import base64, ctypes, ctypes.util, hashlib, json, os, re, struct, sys

# --- libsodium (ctypes) ------------------------------------------------------------------------
try:
    sodium = ctypes.CDLL("libsodium.so.23")
except OSError:
    sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert sodium.sodium_init() >= 0
ULL, SZ, P = ctypes.c_ulonglong, ctypes.c_size_t, ctypes.c_char_p
sodium.crypto_pwhash.argtypes = [P, ULL, P, ULL, P, ULL, SZ, ctypes.c_int]
sodium.crypto_generichash.argtypes = [P, SZ, P, ULL, P, SZ]
sodium.crypto_kdf_derive_from_key.argtypes = [P, SZ, ctypes.c_uint64, P, P]
sodium.crypto_aead_xchacha20poly1305_ietf_decrypt.argtypes = [
    P, ctypes.POINTER(ULL), P, P, ULL, P, ULL, P, P]

def pwhash_argon2id13(passphrase, salt, ops, mem):                      # "Key slots"
    out = ctypes.create_string_buffer(32)
    alg = sodium.crypto_pwhash_alg_argon2id13()
    if sodium.crypto_pwhash(out, 32, passphrase, len(passphrase), salt, ops, mem, alg) != 0:
        raise RuntimeError("crypto_pwhash failed (out of memory?)")
    return out.raw

def generichash_256(key, msg):                                           # "Conventions"
    out = ctypes.create_string_buffer(32)
    assert sodium.crypto_generichash(out, 32, msg, len(msg), key, len(key)) == 0
    return out.raw

def blake2b_256(key, msg):  # BLAKE2b-256(key = K, m): RFC 7693, no salt, no personalization
    return hashlib.blake2b(msg, digest_size=32, key=key).digest()

def aead_open(key, nonce, sealed, ad):  # XChaCha20-Poly1305-IETF; None if authentication fails
    assert len(key) == 32 and len(nonce) == 24 and len(sealed) >= 16
    out, outlen = ctypes.create_string_buffer(len(sealed)), ULL(0)
    rc = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(outlen), None, sealed, len(sealed), ad, len(ad), nonce, key)
    return out.raw[:outlen.value] if rc == 0 else None

def kdf_sodium(mk, subkey_id):                                           # "Master key and subkeys"
    out = ctypes.create_string_buffer(32)
    assert sodium.crypto_kdf_derive_from_key(out, 32, subkey_id, b"mcpvault", mk) == 0
    return out.raw

def kdf_blake2b(mk, subkey_id):  # the "Without libsodium" recipe of "Master key and subkeys"
    return hashlib.blake2b(b"", digest_size=32, key=mk, salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=b"mcpvault" + bytes(8)).digest()

# --- "Conventions": hex, base64, integers --------------------------------------------------------
class Refused(Exception):
    pass

def hex_field(text, nbytes, what):  # lowercase only, two digits per byte
    if not isinstance(text, str) or not re.fullmatch("[0-9a-f]{%d}" % (2 * nbytes), text):
        raise Refused(f"{what}: not {2 * nbytes} lowercase hex digits")
    return bytes.fromhex(text)

def b64_field(text, nbytes, what):  # standard alphabet, '=' padding, fixed decoded length
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise Refused(f"{what}: not standard padded base64")
    raw = base64.b64decode(text, validate=True)
    if len(raw) != nbytes:
        raise Refused(f"{what}: decodes to {len(raw)} bytes, not {nbytes}")
    return raw

def b64(raw):
    return base64.b64encode(raw).decode("ascii")

def is_int(v):  # "integer": a JSON number without fraction or exponent (json gives int, not float)
    return isinstance(v, int) and not isinstance(v, bool)

# --- "vault.json": refusals in the order the spec lists them ------------------------------------
def parse_header(raw):
    if len(raw) > 65536: raise Refused("1: file over 65536 bytes")
    try: doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError): raise Refused("2: not JSON")
    if not isinstance(doc, dict): raise Refused("2: not a JSON object")
    if "format" in doc and not isinstance(doc["format"], str): raise Refused("2: format type")
    if "version" in doc and not is_int(doc["version"]): raise Refused("2: version type")
    if doc.get("format") != "mcp-vault": raise Refused("3: format")
    if "version" not in doc: raise Refused("4: no version")
    if doc["version"] != 1: raise Refused("4: unsupported version")
    for name, typ in (("vault_id", str), ("key_check", str), ("slots", list)):
        if not isinstance(doc.get(name), typ): raise Refused(f"5: {name} missing or wrong type")
    for s in doc["slots"]:
        if not isinstance(s, dict): raise Refused("5: slot is not an object")
        for name in ("id", "type", "nonce", "wrapped_key", "kek_check"):
            if not isinstance(s.get(name), str): raise Refused(f"5: slot {name} missing/type")
        if s["type"] not in ("passphrase", "secret-service"): raise Refused("5: slot type")
        kdf = s.get("kdf")
        if kdf is not None:
            if not isinstance(kdf, dict): raise Refused("5: kdf type")
            for name, ok in (("algorithm", lambda v: isinstance(v, str)), ("salt", lambda v: isinstance(v, str)),
                             ("ops_limit", lambda v: is_int(v) and v >= 0), ("mem_limit", lambda v: is_int(v) and v >= 0)):
                if not ok(kdf.get(name)): raise Refused(f"5: kdf.{name} missing or wrong type")
    hex_field(doc["vault_id"], 16, "6: vault_id")
    b64_field(doc["key_check"], 32, "6: key_check")
    if not doc["slots"]: raise Refused("6: empty slots")
    for s in doc["slots"]:
        hex_field(s["id"], 8, "7: slot id")
        b64_field(s["nonce"], 24, "7: nonce"); b64_field(s["wrapped_key"], 48, "7: wrapped_key")
        b64_field(s["kek_check"], 32, "7: kek_check")
        kdf = s.get("kdf")
        if s["type"] == "passphrase" and kdf is None: raise Refused("7: passphrase slot without kdf")
        if s["type"] == "secret-service" and kdf is not None: raise Refused("7: secret-service slot with kdf")
        if kdf is not None:
            if kdf["algorithm"] != "argon2id13": raise Refused("7: kdf algorithm")
            if not 1 <= kdf["ops_limit"] <= 10: raise Refused("7: ops_limit out of range")
            if not 8192 <= kdf["mem_limit"] <= 1073741824: raise Refused("7: mem_limit out of range")
            b64_field(kdf["salt"], 16, "7: salt")
    if len({s["type"] for s in doc["slots"]}) != len(doc["slots"]): raise Refused("8: two slots of one type")
    return doc

# --- "Key slots" ---------------------------------------------------------------------------------
def slot_ad(doc, slot):  # the table "Associated data of a slot"
    ad = b"mcp-vault/v1/slot\x00" + doc["vault_id"].encode() + b"\x00" + slot["type"].encode() + b"\x00"
    ad += slot["id"].encode() + b"\x00"
    if slot["type"] == "passphrase":
        kdf = slot["kdf"]
        ad += kdf["algorithm"].encode() + b"\x00" + struct.pack(">QQ", kdf["ops_limit"], kdf["mem_limit"])
        ad += kdf["salt"].encode()  # the base64 text as it appears, not the decoded salt
    return ad

def key_check(mk, vault_id_text):                                        # "Master key and subkeys"
    return b64(blake2b_256(mk, b"mcp-vault/v1/key-check\x00" + vault_id_text.encode()))

def open_slot(doc, slot, kek, check):  # "Opening a slot", steps 1-3
    if not check("kek_check matches (step 1)", b64(blake2b_256(kek, b"mcp-vault/v1/kek-check")) == slot["kek_check"]):
        return None  # wrong KEK (wrong passphrase): stop
    ad = slot_ad(doc, slot)
    check(f"AD length {len(ad)}", len(ad) == (130 if slot["type"] == "passphrase" else 83))
    mk = aead_open(kek, b64_field(slot["nonce"], 24, "nonce"), b64_field(slot["wrapped_key"], 48, "wk"), ad)
    check("wrapped_key opens (step 2)", mk is not None and len(mk) == 32)
    if mk is not None:
        check("MK matches key_check (step 3)", key_check(mk, doc["vault_id"]) == doc["key_check"])
    return mk

# --- "Record ids and canonical server URLs" ------------------------------------------------------
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; DIGIT = "0123456789"
HEXDIG = DIGIT + "ABCDEFabcdef"; UNRESERVED = ALPHA + DIGIT + "-._~"; SUB_DELIMS = "!$&'()*+,;="
PCHAR_PLAIN = UNRESERVED + SUB_DELIMS + ":@"   # pchar, less percent-encodings (handled apart)
DEFAULT_PORT = {"https": 443, "http": 80}

def normalize_percent(text, extra):  # step 4.1 (path: extra "/"; query, step 5: extra "/?")
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "%":
            hh = text[i + 1:i + 3]
            if len(hh) != 2 or any(d not in HEXDIG for d in hh): return None
            ch = chr(int(hh, 16))
            out.append(ch if ch in UNRESERVED else "%" + hh.upper()); i += 3
        elif c in PCHAR_PLAIN or c in extra:
            out.append(c); i += 1
        else:
            return None
    return "".join(out)

def remove_dot_segments(inp):  # RFC 3986 section 5.2.4, steps 2A-2E (step 4.2)
    out = ""
    while inp:
        if inp.startswith("../"): inp = inp[3:]
        elif inp.startswith("./"): inp = inp[2:]
        elif inp.startswith("/./"): inp = "/" + inp[3:]
        elif inp == "/.": inp = "/"
        elif inp.startswith("/../") or inp == "/..":
            inp = "/" + inp[4:]
            out = out[:max(out.rfind("/"), 0)]
        elif inp in (".", ".."): inp = ""
        else:
            j = inp.find("/", 1)
            j = len(inp) if j < 0 else j
            out, inp = out + inp[:j], inp[j:]
    return out

def is_loopback(host):  # step 3, last bullet
    if host in ("localhost", "[::1]"): return True
    parts = host.split(".")
    return (len(parts) == 4 and parts[0] == "127" and all(
        p and all(c in DIGIT for c in p) and (p == "0" or p[0] != "0") and int(p) <= 255 for p in parts))

def canonical_server_url(text):
    """Returns the canonical server URL, or None when the algorithm refuses."""
    b = text.encode("utf-8").strip(b" \t\n\r\x0c")                   # step 1
    if any(x <= 0x20 or x >= 0x7F for x in b): return None
    s = b.decode("ascii")
    colon = s.find(":")                                               # step 2: syntax
    if colon <= 0 or s[colon + 1:colon + 3] != "//": return None
    scheme, rest = s[:colon].lower(), s[colon + 3:]
    if scheme not in DEFAULT_PORT: return None
    rest = rest.split("#", 1)[0]                                      # fragment (dropped, step 6)
    end = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority, rest = rest[:end], rest[end:]
    path, _, query = rest.partition("?")
    if "@" in authority: return None                                  # step 3: authority
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0: return None
        inner, after = authority[1:close], authority[close + 1:]
        if not inner or any(c not in HEXDIG + ":." for c in inner): return None
        host = authority[:close + 1].lower()
        if after and not after.startswith(":"): return None
        port_text = after[1:]
    else:
        host, _, port_text = authority.partition(":")
        if not host or any(c not in ALPHA + DIGIT + "-." for c in host): return None
        host = host.lower()
    port = ""
    if port_text:                                                     # empty port == no port
        if any(c not in DIGIT for c in port_text) or not 1 <= int(port_text) <= 65535: return None
        if int(port_text) != DEFAULT_PORT[scheme]: port = ":%d" % int(port_text)
    if scheme == "http" and not is_loopback(host): return None
    path = normalize_percent(path, "/")                               # step 4.1
    if path is None: return None
    path = remove_dot_segments(path).rstrip("/")                      # steps 4.2, 4.3
    if query:                                                         # step 5
        query = normalize_percent(query, "/?")
        if query is None: return None
    return scheme + "://" + host + port + path + ("?" + query if query else "")   # step 7

def record_id(rid_key, canonical):
    return blake2b_256(rid_key, canonical.encode("utf-8")).hex()

# --- "Record files" ------------------------------------------------------------------------------
def open_record(data, vault_id, rid_from_name, sealing_key):  # "Opening a record file", steps 1-7
    if len(data) < 6: raise Refused("1: truncated")
    if data[0:4] != b"MCPV" or data[5:6] != b"R": raise Refused("2: not an mcp-vault record")
    if data[4] != 1: raise Refused("3: unsupported record version")
    if len(data) < 104: raise Refused("4: truncated")
    if data[8:24] != vault_id: raise Refused("5: record from another vault")
    if data[24:56] != rid_from_name: raise Refused("6: renamed or copied record")
    plain = aead_open(sealing_key, data[64:88], data[88:], data[0:64])
    if plain is None: raise Refused("7: record was edited")
    return plain, struct.unpack(">Q", data[56:64])[0]

# "Record plaintext": required members and JSON types (top level and nested objects)
STR, BOOL, INT, OBJ = (lambda v: isinstance(v, str)), (lambda v: isinstance(v, bool)), is_int, (lambda v: isinstance(v, dict))
RECORD_SCHEMA = {
    None: {"schema": (INT, 1), "server_url": (STR, 1), "resource": (STR, 0), "send_resource": (BOOL, 1),
           "issuer": (STR, 0), "endpoints": (OBJ, 1), "client": (OBJ, 0), "tokens": (OBJ, 0),
           "needs_login": (BOOL, 1), "step_up": (OBJ, 0), "created_at": (INT, 1), "updated_at": (INT, 1)},
    "endpoints": {"authorization": (STR, 0), "token": (STR, 0), "revocation": (STR, 0)},
    "client": {"client_id": (STR, 1), "client_secret": (STR, 0), "source": (STR, 1),
               "auth_method": (STR, 1), "redirect_uri": (STR, 0)},
    "tokens": {"access_token": (STR, 1), "refresh_token": (STR, 0), "token_type": (STR, 1), "scope": (STR, 0),
               "expires_at": (INT, 0), "refresh_expires_at": (INT, 0)},
    "step_up": {"scope": (STR, 1), "attempts": (INT, 1), "since": (INT, 1)},
}

def schema_problems(rec):
    problems = []
    for where, members in RECORD_SCHEMA.items():
        obj = rec if where is None else rec.get(where)
        if obj is None: continue  # optional object absent (required ones are checked at top level)
        for name, (ok, required) in members.items():
            v = obj.get(name)  # a null is read as absent
            if (v is None and required) or (v is not None and not ok(v)):
                problems.append(f"{where or 'top'}.{name}")
    if rec.get("schema") != 1: problems.append("schema != 1")
    if rec.get("client", {}).get("source") not in (None, "preregistered", "metadata-document", "dynamic", "imported"):
        problems.append("client.source")
    return problems

# --- driver --------------------------------------------------------------------------------------
def main():
    vdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "v1")
    totals = [0, 0]

    def group(title, fn):
        fails, count = [], [0]
        def check(name, ok):
            totals[0 if ok else 1] += 1; count[0] += 1
            if not ok: fails.append(name)
            return ok
        try: result = fn(check)
        except (Refused, OSError, ValueError, KeyError, TypeError) as e:
            check(f"aborted: {type(e).__name__}: {e}", False); result = None
        print(f"{'FAIL' if fails else 'ok  '} {title}: {count[0] - len(fails)}/{count[0]} checks passed"
              + ("; failed: " + "; ".join(fails) if fails else ""))
        return result

    def header(check):
        with open(os.path.join(vdir, "vault", "vault.json"), "rb") as f: raw = f.read()
        doc = parse_header(raw)
        check("vault.json valid", True)
        return doc
    doc = group("vault.json parses and validates (\"vault.json\")", header)
    if doc is None: return finish(totals)
    slots = {s["type"]: s for s in doc["slots"]}

    def conventions(check):  # spec's own worked example, plus libsodium/hashlib agreement
        mk = bytes(range(32))
        check("generichash == hashlib blake2b", generichash_256(mk, b"abc") == blake2b_256(mk, b"abc"))
        check("worked example key_check", key_check(mk, "000102030405060708090a0b0c0d0e0f") == "18z0lmpJU+VPVHxjIkcPzPsUiymnIGrx4dc2n3kTzco=")
        k1, k2 = kdf_sodium(mk, 1), kdf_sodium(mk, 2)
        check("worked example subkeys (libsodium == blake2b)", k1 == kdf_blake2b(mk, 1) and k2 == kdf_blake2b(mk, 2))
        check("worked example record-id key", k1.hex() == "a737cde9a105627db52b68fcfc3a655ff0c41df35ae35a034ef8f0b465c4a5be")
        check("worked example sealing key", k2.hex() == "e399565554cb8ae546c4bf1ce3ae24acb7bbe2b1253bdb07461214923e96ef39")
        check("worked example record id 1", record_id(k1, "https://mcp.example.com/mcp") == "8cd1f94169255c871f51e551b5cb55c058e67a382501b94894033fb1c4f1f013")
        check("worked example record id 2", record_id(k1, "http://localhost:8080/mcp") == "89284529025786a1bc16ad3fb6742e5489e3310742f191fe96eaeb185ba9d775")
    group("worked example of \"Master key and subkeys\"", conventions)

    def passphrase_slot(check):
        with open(os.path.join(vdir, "passphrase.txt"), "rb") as f:
            line = f.read().split(b"\n", 1)[0]  # "Key slots": bytes before the first "\n", less one "\r"
        pw = line[:-1] if line.endswith(b"\r") else line
        kdf = slots["passphrase"]["kdf"]
        kek = pwhash_argon2id13(pw, b64_field(kdf["salt"], 16, "salt"), kdf["ops_limit"], kdf["mem_limit"])
        return open_slot(doc, slots["passphrase"], kek, check)
    mk_p = group("passphrase slot opens (\"Key slots\")", passphrase_slot)

    def keyring_slot(check):
        with open(os.path.join(vdir, "keyring-secret.hex"), "r") as f:
            kek = hex_field(f.read().rstrip("\n"), 32, "keyring-secret.hex")
        mk = open_slot(doc, slots["secret-service"], kek, check)
        check("same MK as the passphrase slot", mk is not None and mk == mk_p)
        return mk
    mk = group("secret-service slot opens (\"Key slots\")", keyring_slot) or mk_p
    if mk is None: return finish(totals)

    def subkeys(check):
        keys = {}
        for i in (1, 2):
            keys[i] = kdf_sodium(mk, i)
            check(f"subkey {i}: crypto_kdf_derive_from_key == hashlib.blake2b", keys[i] == kdf_blake2b(mk, i))
        check("subkeys differ", keys[1] != keys[2])
        return keys
    keys = group("subkeys (\"Master key and subkeys\")", subkeys)

    def records(check):
        rdir, pdir = os.path.join(vdir, "vault", "records"), os.path.join(vdir, "plaintexts")
        names = sorted(n for n in os.listdir(rdir) if re.fullmatch("[0-9a-f]{64}\\.sealed", n))
        expected = sorted(n[:-5] for n in os.listdir(pdir) if n.endswith(".json"))
        check("record files == plaintext files", [n[:-7] for n in names] == expected)
        vault_id = bytes.fromhex(doc["vault_id"])
        for name in names:
            rid, tag = name[:-7], name[:8]
            with open(os.path.join(rdir, name), "rb") as f: data = f.read()
            check(f"{tag}: size limit", len(data) <= 1048576)
            check(f"{tag}: reserved bytes 00 00", data[6:8] == b"\x00\x00")
            try: plain, gen = open_record(data, vault_id, bytes.fromhex(rid), keys[2])
            except Refused as e:  # a record that fails does not prevent others from opening
                check(f"{tag}: refused at step {e}", False); continue
            check(f"{tag}: opens, generation {gen} >= 1", gen >= 1)
            with open(os.path.join(pdir, rid + ".json"), "rb") as f:
                check(f"{tag}: plaintext equals vector byte for byte", plain == f.read())
            rec = json.loads(plain.decode("utf-8"))
            check(f"{tag}: plaintext schema {schema_problems(rec)}", not schema_problems(rec))
            compact = json.dumps(rec, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
            check(f"{tag}: compact, sorted keys, '/' unescaped", compact.encode("utf-8") == plain)
            url = rec["server_url"]
            check(f"{tag}: server_url is canonical", canonical_server_url(url) == url)
            check(f"{tag}: file name == record id of server_url", record_id(keys[1], url) == rid)
    group("records (\"Record files\", \"Record plaintext\")", records)

    def urls(check):
        with open(os.path.join(vdir, "urls.json"), "rb") as f: entries = json.load(f)
        for e in entries:
            got, want = canonical_server_url(e["input"]), (None if e.get("refused") else e["canonical"])
            check(f"{e['input']!r}: got {got!r}, want {want!r}", got == want)
            if want is not None:
                check(f"{e['input']!r}: record id", got is not None and record_id(keys[1], got) == e["record_id"])
        check(f"{len(entries)} entries read", len(entries) > 0)
    group("urls.json (\"Record ids and canonical server URLs\")", urls)
    return finish(totals)

def finish(totals):
    print(f"{totals[0]} passed, {totals[1]} failed")
    return 0 if totals[1] == 0 else 1

if __name__ == "__main__":
    sys.exit(main())
