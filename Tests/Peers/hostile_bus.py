"""A D-Bus "session bus" on a unix socket that answers the Secret Service read path
(Hello, ReadAlias, Get Locked, SearchItems, OpenSession, GetSecret) as a hostile or broken bus
might. Standard library only.

    hostile_bus.py --socket PATH --mode MODE

Prints "ready" on standard output once it listens, then serves every connection the same way
until it is killed. Each mode breaks one thing, answering the calls before it correctly:

  honest          every call answered correctly (secret: 32 bytes of 0x2a)
  auth-rejected   the EXTERNAL authentication is refused
  not-dbus        an HTTP response instead of the Hello reply
  huge            a reply whose header claims a 2 GiB body
  truncated       a reply cut off halfway, then the connection closed
  deep-variant    a reply with a header field nested 200 variants deep
  no-nul          ReadAlias answered with an object path missing its NUL
  wrong-type      ReadAlias answered with a string, not an object path
  lying-array     SearchItems answered with an array longer than the message
  oversized-secret GetSecret answered with a 64 KiB value
  silent          nothing after the authentication: no reply ever comes
  flood           a thousand signals before each reply
  reversed        honest, but the calls that came together are answered last first
  no-alias-path   honest, but no object at /org/freedesktop/secrets/aliases/default (as a
                  service that serves collections only at their own paths)
"""
import argparse
import os
import socket
import struct
import sys
import threading

COLLECTION = "/org/freedesktop/secrets/collection/login"
ITEM = COLLECTION + "/1"
SESSION = "/org/freedesktop/secrets/session/s1"


class Writer:
    def __init__(self):
        self.data = bytearray()

    def pad(self, alignment):
        self.data += b"\0" * ((-len(self.data)) % alignment)

    def u8(self, value):
        self.data.append(value)

    def u32(self, value):
        self.pad(4)
        self.data += struct.pack("<I", value)

    def string(self, text, nul=True):
        encoded = text.encode()
        self.u32(len(encoded))
        self.data += encoded + (b"\0" if nul else b"")

    def signature(self, text):
        self.u8(len(text))
        self.data += text.encode() + b"\0"


def message(kind, serial, fields, signature, body, body_length=None):
    """fields: (code, type, value) with value already marshalled by a function of a Writer."""
    header = Writer()
    header.data += b"l" + bytes([kind, 0, 1])
    header.u32(len(body) if body_length is None else body_length)
    header.u32(serial)
    header.u32(0)
    length_at = len(header.data) - 4
    header.pad(8)
    start = len(header.data)
    for code, type_, put in fields:
        header.pad(8)
        header.u8(code)
        header.signature(type_)
        put(header)
    if signature:
        header.pad(8)
        header.u8(8)
        header.signature("g")
        header.signature(signature)
    struct.pack_into("<I", header.data, length_at, len(header.data) - start)
    header.pad(8)
    return bytes(header.data) + body


def reply(serial, reply_to, signature, body, **kwargs):
    return message(2, serial, [(5, "u", lambda w: w.u32(reply_to))], signature, body, **kwargs)


def parse_call(data):
    """(total length, serial, member, path) of the message at the start of data, or None if incomplete."""
    if len(data) < 16:
        return None
    body_length, serial, fields_length = struct.unpack_from("<III", data, 4)
    header_end = 16 + fields_length + ((-(16 + fields_length)) % 8)
    total = header_end + body_length
    if len(data) < total:
        return None
    member = path = ""
    position = 16
    while position < 16 + fields_length:
        position += (-position) % 8
        code = data[position]
        type_length = data[position + 1]
        type_ = data[position + 2:position + 2 + type_length].decode()
        position += 3 + type_length
        if type_ in ("s", "o"):
            position += (-position) % 4
            (length,) = struct.unpack_from("<I", data, position)
            value = data[position + 4:position + 4 + length].decode()
            position += 5 + length
            if code == 3:
                member = value
            elif code == 1:
                path = value
        elif type_ == "g":
            length = data[position]
            position += 2 + length
        elif type_ == "u":
            position += (-position) % 4 + 4
    return total, serial, member, path


def answer(member, path, serial, mode, counter):
    """The bytes to send for one call."""
    counter[0] += 1
    out = counter[0] + 1000
    if mode == "no-alias-path" and path.startswith("/org/freedesktop/secrets/aliases/"):
        error = Writer()
        error.string("Object does not exist at path " + path)
        return message(3, out, [(5, "u", lambda w: w.u32(serial)),
                                (4, "s", lambda w: w.string("org.freedesktop.DBus.Error.UnknownMethod"))], "s", bytes(error.data))
    if mode == "flood":
        signal = message(4, 0, [(1, "o", lambda w: w.string("/x")), (2, "s", lambda w: w.string("x.Y")),
                                (3, "s", lambda w: w.string("Z"))], "", b"")
        prefix = signal * 1000
    else:
        prefix = b""
    body = Writer()
    if member == "Hello":
        body.string(":1.42")
        return prefix + reply(out, serial, "s", bytes(body.data))
    if member == "ReadAlias":
        if mode == "not-dbus":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + b"\xff" * 64
        if mode == "huge":
            return reply(out, serial, "o", b"", body_length=0x7FFFFFFF)
        if mode == "truncated":
            body.string(COLLECTION)
            whole = reply(out, serial, "o", bytes(body.data))
            return whole[: len(whole) // 2]
        if mode == "deep-variant":
            def nested(w):
                for _ in range(200):
                    w.signature("v")
                w.signature("u")
                w.u32(1)
            return message(2, out, [(5, "u", lambda w: w.u32(serial)), (200, "v", nested)], "o", b"")
        if mode == "no-nul":
            body.string(COLLECTION, nul=False)
            return reply(out, serial, "o", bytes(body.data))
        if mode == "wrong-type":
            body.string(COLLECTION)
            return reply(out, serial, "s", bytes(body.data))
        body.string(COLLECTION)
        return prefix + reply(out, serial, "o", bytes(body.data))
    if member == "Get":
        body.signature("b")
        body.u32(0)
        return prefix + reply(out, serial, "v", bytes(body.data))
    if member == "SearchItems":
        if mode == "lying-array":
            body.u32(0xFFFFFF00)
            body.string(ITEM)
            return reply(out, serial, "ao", bytes(body.data))
        body.u32(0)
        start = len(body.data)
        body.string(ITEM)
        struct.pack_into("<I", body.data, 0, len(body.data) - start)
        return prefix + reply(out, serial, "ao", bytes(body.data))
    if member == "OpenSession":
        body.signature("s")
        body.string("")
        body.string(SESSION)
        return prefix + reply(out, serial, "vo", bytes(body.data))
    if member == "GetSecret":
        value = b"\x2a" * (65536 if mode == "oversized-secret" else 32)
        body.pad(8)
        body.string(SESSION)
        body.u32(0)
        body.u32(len(value))
        body.data += value
        body.string("application/octet-stream")
        return prefix + reply(out, serial, "(oayays)", bytes(body.data))
    error = Writer()
    error.string("no such method")
    return message(3, out, [(5, "u", lambda w: w.u32(serial)),
                            (4, "s", lambda w: w.string("org.freedesktop.DBus.Error.UnknownMethod"))], "s", bytes(error.data))


def serve(connection, mode):
    with connection:
        data = b""
        while b"\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        if mode == "auth-rejected":
            connection.sendall(b"REJECTED EXTERNAL\r\n")
            return
        connection.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
        data = data.split(b"\r\n", 1)[1]  # a client may send BEGIN and its calls with AUTH
        while b"BEGIN\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        data = data.split(b"BEGIN\r\n", 1)[1]
        counter = [0]
        while True:
            answers = []
            while (parsed := parse_call(data)) is not None:
                total, serial, member, path = parsed
                data = data[total:]
                if mode != "silent":
                    answers.append((member, answer(member, path, serial, mode, counter)))
            if mode == "reversed":
                answers.reverse()
            for member, out in answers:
                try:
                    connection.sendall(out)
                except OSError:
                    return
                if mode == "truncated" and member == "ReadAlias":
                    return
            chunk = connection.recv(65536)
            if not chunk:
                return
            data += chunk


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--mode", default="honest")
    arguments = parser.parse_args()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(arguments.socket):
        os.unlink(arguments.socket)
    listener.bind(arguments.socket)
    listener.listen(16)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection, arguments.mode), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
