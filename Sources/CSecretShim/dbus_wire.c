// The keyring's read path (`token`, `status`, `run`: every command that opens a vault through its
// keyring slot) spoken directly on the session bus's socket. Loading libsecret and GLib and
// starting GDBus's threads cost more than the rest of such a command; this file needs neither.
// It speaks just enough D-Bus for six calls (Hello, ReadAlias, Get Locked, SearchItems,
// OpenSession, GetSecret) in two round trips, and treats everything the bus sends as
// untrusted: every length, offset and nesting level is checked against the bytes received, and a
// message larger than 1 MiB ends the call. Writes (store, clear) and the unlock prompt stay on
// the GDBus path in secret_shim.c; so does any bus address other than a unix socket path.
#include "dbus_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WIRE_MAX_MESSAGE (1u << 20)
#define WIRE_MAX_DEPTH 32
#define WIRE_MAX_STASHED 8
#define WIRE_SECRETS "org.freedesktop.secrets"
#define WIRE_SERVICE_PATH "/org/freedesktop/secrets"
#define WIRE_SESSION_COLLECTION_SUFFIX "/collection/session"

enum { WIRE_METHOD_CALL = 1, WIRE_METHOD_RETURN = 2, WIRE_ERROR = 3 };

static void set_message(char **message, const char *format, const char *detail) {
    if (message == NULL || *message != NULL) {
        return;
    }
    size_t size = strlen(format) + (detail != NULL ? strlen(detail) : 0) + 1;
    *message = malloc(size);
    if (*message != NULL) {
        snprintf(*message, size, format, detail != NULL ? detail : "");
    }
}

// MARK: - Writing messages (always little-endian)

typedef struct {
    unsigned char *data;
    size_t length, capacity;
    bool failed;  // out of memory
} Writer;

static void put_bytes(Writer *w, const void *bytes, size_t count) {
    if (w->failed || count == 0) {  // nothing to copy (and no memcpy to a writer with no buffer yet)
        return;
    }
    if (w->length + count > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 256;
        while (capacity < w->length + count) {
            capacity *= 2;
        }
        unsigned char *data = realloc(w->data, capacity);
        if (data == NULL) {
            w->failed = true;
            return;
        }
        w->data = data;
        w->capacity = capacity;
    }
    memcpy(w->data + w->length, bytes, count);
    w->length += count;
}

static void put_padding(Writer *w, size_t alignment) {
    static const unsigned char zeros[8];
    put_bytes(w, zeros, (alignment - w->length % alignment) % alignment);
}

static void put_u8(Writer *w, uint8_t value) { put_bytes(w, &value, 1); }

static void put_u32(Writer *w, uint32_t value) {
    put_padding(w, 4);
    unsigned char bytes[4] = {value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24};
    put_bytes(w, bytes, 4);
}

static void patch_u32(Writer *w, size_t at, uint32_t value) {
    if (!w->failed) {
        unsigned char bytes[4] = {value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24};
        memcpy(w->data + at, bytes, 4);
    }
}

static void put_string(Writer *w, const char *text) {  // also an object path
    size_t length = strlen(text);
    put_u32(w, (uint32_t)length);
    put_bytes(w, text, length + 1);
}

static void put_signature(Writer *w, const char *signature) {
    size_t length = strlen(signature);
    put_u8(w, (uint8_t)length);
    put_bytes(w, signature, length + 1);
}

// Arrays: the length counts from after the padding to the first element.
static size_t begin_array(Writer *w, size_t element_alignment, size_t *start) {
    put_u32(w, 0);
    size_t length_at = w->length - 4;
    put_padding(w, element_alignment);
    *start = w->length;
    return length_at;
}

static void end_array(Writer *w, size_t length_at, size_t start) { patch_u32(w, length_at, (uint32_t)(w->length - start)); }

typedef struct {
    const char *destination, *path, *interface, *member, *signature;
} Call;

static void put_header_field(Writer *w, uint8_t code, const char *type, const char *value) {
    put_padding(w, 8);
    put_u8(w, code);
    put_signature(w, type);
    if (type[0] == 'g') {
        put_signature(w, value);
    } else {
        put_string(w, value);
    }
}

// Writes a method call, from offset 0 of the empty `w`, whose body (marshalled from offset 0: the
// body starts at a multiple of 8) is `body`.
static void put_call(Writer *w, uint32_t serial, const Call *call, const Writer *body) {
    put_u8(w, 'l');
    put_u8(w, WIRE_METHOD_CALL);
    put_u8(w, 0);
    put_u8(w, 1);
    put_u32(w, body != NULL ? (uint32_t)body->length : 0);
    put_u32(w, serial);
    size_t fields_start;
    size_t fields_length_at = begin_array(w, 8, &fields_start);
    put_header_field(w, 1, "o", call->path);
    put_header_field(w, 2, "s", call->interface);
    put_header_field(w, 3, "s", call->member);
    put_header_field(w, 6, "s", call->destination);
    if (call->signature != NULL) {
        put_header_field(w, 8, "g", call->signature);
    }
    end_array(w, fields_length_at, fields_start);
    put_padding(w, 8);
    if (body != NULL) {
        put_bytes(w, body->data, body->length);
        if (body->failed) {
            w->failed = true;
        }
    }
}

// MARK: - Reading messages

typedef struct {
    const unsigned char *data;
    size_t length, position;
    bool big_endian;
} Reader;

static bool get_align(Reader *r, size_t alignment) {
    size_t position = (r->position + alignment - 1) / alignment * alignment;
    if (position > r->length) {
        return false;
    }
    r->position = position;
    return true;
}

static bool get_u8(Reader *r, uint8_t *value) {
    if (r->position + 1 > r->length) {
        return false;
    }
    *value = r->data[r->position++];
    return true;
}

static bool get_u32(Reader *r, uint32_t *value) {
    if (!get_align(r, 4) || r->length - r->position < 4) {
        return false;
    }
    const unsigned char *p = r->data + r->position;
    *value = r->big_endian ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
                           : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
    r->position += 4;
    return true;
}

// `length` bytes of text at the reader's position, then a NUL, and no NUL inside.
static bool get_text(Reader *r, size_t length, const char **text) {
    if (length >= r->length - r->position) {
        return false;
    }
    const char *start = (const char *)r->data + r->position;
    if (start[length] != '\0' || memchr(start, '\0', length) != NULL) {
        return false;
    }
    *text = start;
    r->position += length + 1;
    return true;
}

// A string or object path: a 32-bit length, then the text.
static bool get_string(Reader *r, const char **text) {
    uint32_t length;
    return get_u32(r, &length) && get_text(r, length, text);
}

// A signature: an 8-bit length, then the text.
static bool get_signature(Reader *r, const char **signature) {
    uint8_t length;
    return get_u8(r, &length) && get_text(r, length, signature);
}

static size_t alignment_of(char type) {
    switch (type) {
    case 'n': case 'q': return 2;
    case 'b': case 'u': case 'i': case 'h': case 's': case 'o': case 'a': return 4;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 1;  // y g v
    }
}

// Moves *signature past one complete type.
static bool skip_type(const char **signature, int depth) {
    if (depth > WIRE_MAX_DEPTH) {
        return false;
    }
    char type = *(*signature)++;
    switch (type) {
    case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x': case 't': case 'd':
    case 'h': case 's': case 'o': case 'g': case 'v':
        return true;
    case 'a':
        return skip_type(signature, depth + 1);
    case '(': case '{': {
        char close = type == '(' ? ')' : '}';
        while (**signature != close) {
            if (**signature == '\0' || !skip_type(signature, depth + 1)) {
                return false;
            }
        }
        (*signature)++;
        return true;
    }
    default:
        return false;
    }
}

// Moves the reader past one value of the type *signature starts with, and *signature past it.
static bool skip_value(Reader *r, const char **signature, int depth) {
    if (depth > WIRE_MAX_DEPTH) {
        return false;
    }
    const char *type = *signature;
    uint8_t byte;
    uint32_t word;
    const char *text;
    switch (*type) {
    case 'y':
        (*signature)++;
        return get_u8(r, &byte);
    case 'b': case 'i': case 'u': case 'h':
        (*signature)++;
        return get_u32(r, &word);
    case 'n': case 'q': case 'x': case 't': case 'd': {
        size_t size = alignment_of(*type);
        (*signature)++;
        if (!get_align(r, size) || r->length - r->position < size) {
            return false;
        }
        r->position += size;
        return true;
    }
    case 's': case 'o':
        (*signature)++;
        return get_string(r, &text);
    case 'g':
        (*signature)++;
        return get_signature(r, &text);
    case 'v': {
        (*signature)++;
        const char *inner;
        if (!get_signature(r, &inner)) {
            return false;
        }
        return skip_value(r, &inner, depth + 1) && *inner == '\0';
    }
    case 'a': {
        (*signature)++;
        uint32_t length;
        if (!get_u32(r, &length) || !get_align(r, alignment_of(**signature)) || length > r->length - r->position) {
            return false;
        }
        r->position += length;
        return skip_type(signature, depth + 1);
    }
    case '(': case '{': {
        char close = *type == '(' ? ')' : '}';
        (*signature)++;
        if (!get_align(r, 8)) {
            return false;
        }
        while (**signature != close) {
            if (**signature == '\0' || !skip_value(r, signature, depth + 1)) {
                return false;
            }
        }
        (*signature)++;
        return true;
    }
    default:
        return false;
    }
}

typedef struct {
    uint8_t type;
    bool has_reply_serial;
    uint32_t reply_serial;
    const char *error_name;  // NULL unless an error
    const char *signature;   // "" when the body is empty
    Reader body;             // positioned at the body's start
    size_t total;            // bytes the message takes in the input buffer
} Message;

// Parses the complete message at the start of `data` (`length` bytes, at least `total`).
static bool parse_message(const unsigned char *data, size_t total, Message *m) {
    memset(m, 0, sizeof *m);
    Reader r = {data, total, 0, data[0] == 'B'};
    uint32_t body_length, serial, fields_length;
    m->type = data[1];
    m->signature = "";
    r.position = 4;
    if (data[3] != 1 || !get_u32(&r, &body_length) || !get_u32(&r, &serial) || !get_u32(&r, &fields_length) ||
        !get_align(&r, 8)) {
        return false;
    }
    size_t fields_end = r.position + fields_length;
    if (fields_end > total) {
        return false;
    }
    Reader fields = r;
    fields.length = fields_end;
    while (fields.position < fields_end) {
        uint8_t code;
        const char *type;
        if (!get_align(&fields, 8) || !get_u8(&fields, &code) || !get_signature(&fields, &type)) {
            return false;
        }
        if (code == 4 && strcmp(type, "s") == 0) {
            if (!get_string(&fields, &m->error_name)) {
                return false;
            }
        } else if (code == 5 && strcmp(type, "u") == 0) {
            if (!get_u32(&fields, &m->reply_serial)) {
                return false;
            }
            m->has_reply_serial = true;
        } else if (code == 8 && strcmp(type, "g") == 0) {
            if (!get_signature(&fields, &m->signature)) {
                return false;
            }
        } else if (!skip_value(&fields, &type, 0) || *type != '\0') {
            return false;
        }
    }
    r.position = fields_end;
    if (!get_align(&r, 8) || total - r.position != body_length) {
        return false;
    }
    m->body = r;
    m->total = total;
    return true;
}

// MARK: - The connection

typedef struct {
    int fd;
    unsigned char *in;
    size_t in_length, in_capacity;
    uint32_t serial;
    struct timespec end;
    // Replies that came before the one awaited (a service may answer calls sent together in
    // another order than they were sent), kept until awaited. At most WIRE_MAX_STASHED.
    struct {
        uint32_t reply_serial;
        unsigned char *bytes;
        size_t length;
    } stash[WIRE_MAX_STASHED];
    size_t stashed;
} Connection;

static int remaining_ms(const Connection *c) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = (long long)(c->end.tv_sec - now.tv_sec) * 1000 + (c->end.tv_nsec - now.tv_nsec) / 1000000;
    return left < 0 ? 0 : (left > 600000 ? 600000 : (int)left);
}

static int timed_out(char **message) {
    set_message(message, "the session bus or the Secret Service did not answer in time%s", NULL);
    return MV_SECRET_TIMEOUT;
}

static int wait_for(Connection *c, short events, char **message) {
    for (;;) {
        int left = remaining_ms(c);
        if (left == 0) {
            return timed_out(message);
        }
        struct pollfd poller = {c->fd, events, 0};
        int ready = poll(&poller, 1, left);
        if (ready > 0) {
            return MV_SECRET_OK;
        }
        if (ready < 0 && errno != EINTR) {
            set_message(message, "cannot wait for the session bus: %s", strerror(errno));
            return MV_SECRET_FAILED;
        }
    }
}

static int send_all(Connection *c, const unsigned char *bytes, size_t count, char **message) {
    while (count > 0) {
        int status = wait_for(c, POLLOUT, message);
        if (status != MV_SECRET_OK) {
            return status;
        }
        ssize_t sent = send(c->fd, bytes, count, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            set_message(message, "cannot write to the session bus: %s", strerror(errno));
            return MV_SECRET_FAILED;
        }
        bytes += sent;
        count -= (size_t)sent;
    }
    return MV_SECRET_OK;
}

// Makes room for `extra` more bytes of input (moving it, never leaving a copy behind unwiped).
static int reserve_input(Connection *c, size_t extra, char **message) {
    if (c->in_capacity - c->in_length >= extra) {
        return MV_SECRET_OK;
    }
    size_t capacity = c->in_capacity ? c->in_capacity : 4096;
    while (capacity - c->in_length < extra) {
        capacity *= 2;
    }
    unsigned char *in = malloc(capacity);
    if (in == NULL) {
        set_message(message, "out of memory%s", NULL);
        return MV_SECRET_FAILED;
    }
    if (c->in != NULL) {
        memcpy(in, c->in, c->in_length);
        explicit_bzero(c->in, c->in_capacity);  // it may hold a secret
        free(c->in);
    }
    c->in = in;
    c->in_capacity = capacity;
    return MV_SECRET_OK;
}

// Reads at least one more byte into the input buffer.
static int receive_more(Connection *c, char **message) {
    int reserved = reserve_input(c, 1, message);
    if (reserved != MV_SECRET_OK) {
        return reserved;
    }
    for (;;) {
        int status = wait_for(c, POLLIN, message);
        if (status != MV_SECRET_OK) {
            return status;
        }
        ssize_t got = recv(c->fd, c->in + c->in_length, c->in_capacity - c->in_length, MSG_DONTWAIT);
        if (got > 0) {
            c->in_length += (size_t)got;
            return MV_SECRET_OK;
        }
        if (got == 0) {
            set_message(message, "the session bus closed the connection%s", NULL);
            return MV_SECRET_FAILED;
        }
        if (errno != EINTR && errno != EAGAIN) {
            set_message(message, "cannot read from the session bus: %s", strerror(errno));
            return MV_SECRET_FAILED;
        }
    }
}

static void consume(Connection *c, size_t count) {
    memmove(c->in, c->in + count, c->in_length - count);
    explicit_bzero(c->in + c->in_length - count, count);
    c->in_length -= count;
}

static int not_dbus(char **message) {
    set_message(message, "the session bus sent bytes that are not a D-Bus message%s", NULL);
    return MV_SECRET_FAILED;
}

// Reads the next complete message; the caller consumes it (c->in) when done with it.
static int receive_message(Connection *c, Message *m, char **message) {
    while (c->in_length < 16) {
        int status = receive_more(c, message);
        if (status != MV_SECRET_OK) {
            return status;
        }
    }
    if (c->in[0] != 'l' && c->in[0] != 'B') {
        return not_dbus(message);
    }
    Reader r = {c->in, 16, 4, c->in[0] == 'B'};
    uint32_t body_length, serial, fields_length;
    get_u32(&r, &body_length);
    get_u32(&r, &serial);
    get_u32(&r, &fields_length);
    if (body_length > WIRE_MAX_MESSAGE || fields_length > WIRE_MAX_MESSAGE) {
        set_message(message, "the session bus sent a message larger than %s", "1 MiB");
        return MV_SECRET_FAILED;
    }
    size_t total = (16 + (size_t)fields_length + 7) / 8 * 8 + body_length;
    if (total > WIRE_MAX_MESSAGE) {
        set_message(message, "the session bus sent a message larger than %s", "1 MiB");
        return MV_SECRET_FAILED;
    }
    while (c->in_length < total) {
        int status = receive_more(c, message);
        if (status != MV_SECRET_OK) {
            return status;
        }
    }
    return parse_message(c->in, total, m) ? MV_SECRET_OK : not_dbus(message);
}

// Sends method calls and reads the reply to the last one, skipping everything else (signals
// such as NameAcquired, and the replies to earlier calls sent with it).
static int transmit(Connection *c, const Writer *calls, char **message) {
    if (calls->failed) {
        set_message(message, "out of memory%s", NULL);
        return MV_SECRET_FAILED;
    }
    return send_all(c, calls->data, calls->length, message);
}

// Puts a stashed reply to `serial` back at the front of the input, if there is one.
static int unstash(Connection *c, uint32_t serial, char **message) {
    for (size_t i = 0; i < c->stashed; i++) {
        if (c->stash[i].reply_serial != serial) {
            continue;
        }
        size_t length = c->stash[i].length;
        int reserved = reserve_input(c, length, message);
        if (reserved != MV_SECRET_OK) {
            return reserved;
        }
        memmove(c->in + length, c->in, c->in_length);
        memcpy(c->in, c->stash[i].bytes, length);
        c->in_length += length;
        explicit_bzero(c->stash[i].bytes, length);
        free(c->stash[i].bytes);
        c->stash[i] = c->stash[--c->stashed];
        break;
    }
    return MV_SECRET_OK;
}

// Keeps a copy of the reply at the front of the input for a later await_reply. More than
// WIRE_MAX_STASHED replies waiting is more than this client ever has calls out: a bus that sends
// them is not answering its calls.
static int stash(Connection *c, const Message *reply, char **message) {
    if (c->stashed == WIRE_MAX_STASHED) {
        set_message(message, "the session bus sent more replies than there were calls%s", NULL);
        return MV_SECRET_FAILED;
    }
    unsigned char *bytes = malloc(reply->total);
    if (bytes == NULL) {
        set_message(message, "out of memory%s", NULL);
        return MV_SECRET_FAILED;
    }
    memcpy(bytes, c->in, reply->total);
    c->stash[c->stashed].reply_serial = reply->reply_serial;
    c->stash[c->stashed].bytes = bytes;
    c->stash[c->stashed].length = reply->total;
    c->stashed++;
    return MV_SECRET_OK;
}

static int await_reply(Connection *c, uint32_t serial, Message *reply, const char *what, char **message) {
    int status = unstash(c, serial, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    for (;;) {
        status = receive_message(c, reply, message);
        if (status != MV_SECRET_OK) {
            return status;
        }
        bool is_reply = (reply->type == WIRE_METHOD_RETURN || reply->type == WIRE_ERROR) && reply->has_reply_serial;
        if (is_reply && reply->reply_serial == serial) {
            break;
        }
        // Calls are awaited in the order they were made: a reply to a later one is kept; one to
        // an earlier call (its answer already read, or Hello's) is not.
        if (is_reply && reply->reply_serial > serial && reply->reply_serial <= c->serial) {
            status = stash(c, reply, message);
            if (status != MV_SECRET_OK) {
                return status;
            }
        }
        consume(c, reply->total);
    }
    if (reply->type == WIRE_METHOD_RETURN) {
        return MV_SECRET_OK;
    }
    const char *name = reply->error_name != NULL ? reply->error_name : "(no error name)";
    const char *detail = "";
    Reader body = reply->body;
    if (reply->signature[0] == 's') {
        get_string(&body, &detail);
    }
    status = MV_SECRET_FAILED;
    if (strcmp(name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
        strcmp(name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0) {
        status = MV_SECRET_NO_SERVICE;
    } else if (strcmp(name, "org.freedesktop.DBus.Error.NoReply") == 0 ||
               strcmp(name, "org.freedesktop.DBus.Error.Timeout") == 0 ||
               strcmp(name, "org.freedesktop.DBus.Error.TimedOut") == 0) {
        status = MV_SECRET_TIMEOUT;
    }
    if (message != NULL && *message == NULL) {
        const char *shown = detail[0] ? detail : "error";
        size_t size = strlen(what) + strlen(shown) + strlen(name) + 6;  // ": ", " (", ")", NUL
        *message = malloc(size);
        if (*message != NULL) {
            snprintf(*message, size, "%s: %s (%s)", what, shown, name);
        }
    }
    consume(c, reply->total);
    return status;
}

static int unexpected(Connection *c, Message *reply, const char *member, char **message) {
    set_message(message, "the Secret Service answered %s with a reply the API does not define", member);
    consume(c, reply->total);
    return MV_SECRET_FAILED;
}

// MARK: - Connecting

static void free_writer(Writer *w);

static int hex_value(char digit) {
    if (digit >= '0' && digit <= '9') {
        return digit - '0';
    }
    if ((digit | 0x20) >= 'a' && (digit | 0x20) <= 'f') {
        return (digit | 0x20) - 'a' + 10;
    }
    return -1000;  // makes the escape's value negative
}

// The socket of a unix:path= or unix:abstract= entry of a bus address (values %-escaped).
static bool parse_address(const char *address, struct sockaddr_un *socket_address, socklen_t *length) {
    for (const char *entry = address; entry != NULL && *entry != '\0';) {
        const char *end = strchr(entry, ';');
        size_t entry_length = end != NULL ? (size_t)(end - entry) : strlen(entry);
        if (entry_length > 5 && strncmp(entry, "unix:", 5) == 0) {
            const char *key = entry + 5, *stop = entry + entry_length;
            while (key < stop) {
                const char *comma = memchr(key, ',', (size_t)(stop - key));
                const char *key_end = comma != NULL ? comma : stop;
                bool abstract = (size_t)(key_end - key) > 9 && strncmp(key, "abstract=", 9) == 0;
                bool path = (size_t)(key_end - key) > 5 && strncmp(key, "path=", 5) == 0;
                if (abstract || path) {
                    memset(socket_address, 0, sizeof *socket_address);
                    socket_address->sun_family = AF_UNIX;
                    size_t out = abstract ? 1 : 0;  // an abstract name starts with a NUL byte
                    bool valid = true;
                    for (const char *p = key + (abstract ? 9 : 5); p < key_end; p++) {
                        int value = (unsigned char)*p;
                        if (*p == '%') {
                            value = key_end - p > 2 ? hex_value(p[1]) * 16 + hex_value(p[2]) : -1;
                            p += 2;
                        }
                        if (value <= 0 || out >= sizeof socket_address->sun_path - 1) {
                            valid = false;
                            break;
                        }
                        socket_address->sun_path[out++] = (char)value;
                    }
                    if (valid) {
                        *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + out + (abstract ? 0 : 1));
                        return true;
                    }
                }
                key = key_end + 1;
            }
        }
        entry = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static void disconnect(Connection *c) {
    if (c->fd >= 0) {
        close(c->fd);
    }
    if (c->in != NULL) {
        explicit_bzero(c->in, c->in_capacity);
        free(c->in);
    }
    for (size_t i = 0; i < c->stashed; i++) {
        explicit_bzero(c->stash[i].bytes, c->stash[i].length);
        free(c->stash[i].bytes);
    }
    c->stashed = 0;
    c->fd = -1;
    c->in = NULL;
}

// Connects to the bus's socket.
static int connect_bus(Connection *c, unsigned timeout_ms, char **message) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &c->end);
    c->end.tv_sec += timeout_ms / 1000;
    c->end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (c->end.tv_nsec >= 1000000000) {
        c->end.tv_sec += 1;
        c->end.tv_nsec -= 1000000000;
    }
    // The programs find the bus at start-up (SessionBus.adopt) and set the variable.
    const char *address = getenv("DBUS_SESSION_BUS_ADDRESS");
    if (address == NULL || *address == '\0') {
        set_message(message, "DBUS_SESSION_BUS_ADDRESS is not set and neither $XDG_RUNTIME_DIR/bus nor /run/user/UID/bus is a bus socket of this user's%s", NULL);
        return MV_SECRET_NO_BUS;
    }
    struct sockaddr_un socket_address;
    socklen_t socket_length;
    if (!parse_address(address, &socket_address, &socket_length)) {
        return MV_WIRE_UNSUPPORTED;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        set_message(message, "cannot create a socket: %s", strerror(errno));
        return MV_SECRET_FAILED;
    }
    while (connect(c->fd, (struct sockaddr *)&socket_address, socket_length) != 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN && remaining_ms(c) > 0) {  // the listener's backlog is full: try again
            usleep(1000);
            continue;
        }
        int error = errno;
        disconnect(c);
        if (error == EAGAIN) {
            return timed_out(message);
        }
        set_message(message, "cannot connect to the D-Bus session bus: %s", strerror(error));
        return MV_SECRET_NO_BUS;
    }
    return MV_SECRET_OK;
}

// The EXTERNAL authentication (the kernel tells the bus our user), BEGIN, and then `calls`, all in
// one write, as sd-bus does: the bus answers OK, then the calls. Reads the OK line.
static int authenticate_and_send(Connection *c, const Writer *calls, char **message) {
    char uid[16];
    snprintf(uid, sizeof uid, "%u", (unsigned)geteuid());
    Writer out = {0};
    put_bytes(&out, "\0AUTH EXTERNAL ", 15);
    for (const char *p = uid; *p; p++) {
        char hex[3];
        snprintf(hex, sizeof hex, "%02x", (unsigned char)*p);
        put_bytes(&out, hex, 2);
    }
    put_bytes(&out, "\r\nBEGIN\r\n", 9);
    put_bytes(&out, calls->data, calls->length);
    out.failed |= calls->failed;
    int status = transmit(c, &out, message);
    free_writer(&out);
    while (status == MV_SECRET_OK) {
        unsigned char *line_end = c->in_length > 0 ? memchr(c->in, '\n', c->in_length) : NULL;
        if (line_end != NULL) {
            bool accepted = c->in_length >= 3 && memcmp(c->in, "OK ", 3) == 0;
            consume(c, (size_t)(line_end - c->in) + 1);
            if (!accepted) {
                set_message(message, "the D-Bus session bus did not accept this user (EXTERNAL authentication)%s", NULL);
                status = MV_SECRET_NO_BUS;
            }
            break;
        }
        if (c->in_length > 512) {
            status = not_dbus(message);
            break;
        }
        status = receive_more(c, message);
    }
    return status;
}

// MARK: - The Secret Service calls

static void free_writer(Writer *w) {
    if (w->data != NULL) {
        explicit_bzero(w->data, w->capacity);
        free(w->data);
    }
    memset(w, 0, sizeof *w);
}

// Appends a method call to `out` (messages follow one another unpadded) and returns its serial.
// The call's body (NULL for none) is freed: each body serves one call. A body that ran out of
// memory marks `out` failed.
static uint32_t queue_call(Connection *c, Writer *out, const Call *call, Writer *body) {
    uint32_t serial = ++c->serial;
    Writer message = {0};
    put_call(&message, serial, call, body);
    put_bytes(out, message.data, message.length);
    out->failed |= message.failed;
    free_writer(&message);
    if (body != NULL) {
        free_writer(body);
    }
    return serial;
}

// The path at which gnome-keyring and KeePassXC also serve the collection an alias names: calls
// on it need not wait for ReadAlias's answer. Where a service does not serve it, the calls are
// made again on the path ReadAlias gave.
#define WIRE_DEFAULT_ALIAS_PATH WIRE_SERVICE_PATH "/aliases/default"

// Hello, then ReadAlias("default"); returns ReadAlias's serial.
static uint32_t queue_read_alias(Connection *c, Writer *out) {
    queue_call(c, out, &(Call){"org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", NULL}, NULL);
    Writer body = {0};
    put_string(&body, "default");
    return queue_call(c, out, &(Call){WIRE_SECRETS, WIRE_SERVICE_PATH, "org.freedesktop.Secret.Service", "ReadAlias", "s"}, &body);
}

// ReadAlias's answer: on success *collection (malloc'd) is a persistent collection's path.
static int read_alias(Connection *c, uint32_t serial, char **collection, char **message) {
    Message reply;
    int status = await_reply(c, serial, &reply, "cannot read the default collection alias", message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    const char *path;
    if (strcmp(reply.signature, "o") != 0 || !get_string(&reply.body, &path)) {
        return unexpected(c, &reply, "ReadAlias", message);
    }
    *collection = strdup(path);
    consume(c, reply.total);
    if (*collection == NULL) {
        set_message(message, "out of memory%s", NULL);
        return MV_SECRET_FAILED;
    }
    if (strcmp(*collection, "/") == 0) {
        set_message(message, "the Secret Service has no default collection%s", NULL);
        return MV_SECRET_NO_DEFAULT;
    }
    size_t length = strlen(*collection), suffix = strlen(WIRE_SESSION_COLLECTION_SUFFIX);
    if (length >= suffix && strcmp(*collection + length - suffix, WIRE_SESSION_COLLECTION_SUFFIX) == 0) {
        set_message(message, "the default collection is the in-memory session collection, which forgets everything at logout%s", NULL);
        return MV_SECRET_VOLATILE;
    }
    return MV_SECRET_OK;
}

static uint32_t queue_locked(Connection *c, Writer *out, const char *collection) {
    Writer body = {0};
    put_string(&body, "org.freedesktop.Secret.Collection");
    put_string(&body, "Locked");
    return queue_call(c, out, &(Call){WIRE_SECRETS, collection, "org.freedesktop.DBus.Properties", "Get", "ss"}, &body);
}

static int read_locked(Connection *c, uint32_t serial, char **message) {
    Message reply;
    int status = await_reply(c, serial, &reply, "cannot read the default collection's lock state", message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    const char *type;
    uint32_t locked;
    if (strcmp(reply.signature, "v") != 0 || !get_signature(&reply.body, &type) || strcmp(type, "b") != 0 ||
        !get_u32(&reply.body, &locked) || locked > 1) {
        return unexpected(c, &reply, "Get Locked", message);
    }
    consume(c, reply.total);
    if (locked) {
        set_message(message, "the default collection is locked%s", NULL);
        return MV_SECRET_LOCKED;
    }
    return MV_SECRET_OK;
}

static uint32_t queue_search(Connection *c, Writer *out, const char *collection, const char *const attributes[3][2]) {
    Writer body = {0};
    size_t start;
    size_t length_at = begin_array(&body, 8, &start);
    for (size_t i = 0; i < 3; i++) {
        put_padding(&body, 8);
        put_string(&body, attributes[i][0]);
        put_string(&body, attributes[i][1]);
    }
    end_array(&body, length_at, start);
    return queue_call(c, out, &(Call){WIRE_SECRETS, collection, "org.freedesktop.Secret.Collection", "SearchItems", "a{ss}"}, &body);
}

// SearchItems's answer: on success *item (malloc'd) is the first item found.
static int read_search(Connection *c, uint32_t serial, char **item, char **message) {
    Message reply;
    int status = await_reply(c, serial, &reply, "cannot search the default collection", message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    uint32_t items_length;
    const char *first;
    if (strcmp(reply.signature, "ao") != 0 || !get_u32(&reply.body, &items_length) ||
        items_length > reply.body.length - reply.body.position) {
        return unexpected(c, &reply, "SearchItems", message);
    }
    if (items_length == 0) {
        consume(c, reply.total);
        set_message(message, "the keyring has no key for this vault%s", NULL);
        return MV_SECRET_NOT_FOUND;
    }
    if (!get_string(&reply.body, &first)) {
        return unexpected(c, &reply, "SearchItems", message);
    }
    *item = strdup(first);
    consume(c, reply.total);
    if (*item == NULL) {
        set_message(message, "out of memory%s", NULL);
        return MV_SECRET_FAILED;
    }
    return MV_SECRET_OK;
}

// An answer about the alias's path that may only mean the service does not serve that path.
static bool worth_retrying(int status) { return status == MV_SECRET_FAILED; }

static uint32_t queue_open_session(Connection *c, Writer *out) {
    Writer body = {0};
    put_string(&body, "plain");
    put_signature(&body, "s");
    put_string(&body, "");
    return queue_call(c, out, &(Call){WIRE_SECRETS, WIRE_SERVICE_PATH, "org.freedesktop.Secret.Service", "OpenSession", "sv"}, &body);
}

int mv_wire_probe(unsigned timeout_ms, char **message) {
    Connection c;
    int status = connect_bus(&c, timeout_ms, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    char *collection = NULL;
    Writer calls = {0};
    uint32_t alias_serial = queue_read_alias(&c, &calls);
    status = authenticate_and_send(&c, &calls, message);
    free_writer(&calls);
    if (status == MV_SECRET_OK) {
        status = read_alias(&c, alias_serial, &collection, message);
    }
    if (status == MV_SECRET_OK) {
        uint32_t serial = queue_locked(&c, &calls, collection);
        status = transmit(&c, &calls, message);
        free_writer(&calls);
        if (status == MV_SECRET_OK) {
            status = read_locked(&c, serial, message);
        }
    }
    free(collection);
    disconnect(&c);
    return status;
}

int mv_wire_lookup(const char *schema, const char *vault_id, const char *slot_id, unsigned timeout_ms,
                   unsigned char *out, size_t out_capacity, size_t *out_length, char **message) {
    Connection c;
    int status = connect_bus(&c, timeout_ms, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    char *collection = NULL, *item = NULL, *alias_message = NULL;
    Writer calls = {0}, body = {0};
    Message reply;
    const char *const attributes[3][2] = {{"xdg:schema", schema}, {"vault-id", vault_id}, {"slot-id", slot_id}};

    // First write: the authentication, ReadAlias, the lock state and the search on the alias's
    // path, and a session. Second: GetSecret. (Before it, only if the alias's path is not served:
    // the lock state, the search and a session again, on the collection's own path.)
    uint32_t alias_serial = queue_read_alias(&c, &calls);
    uint32_t locked_serial = queue_locked(&c, &calls, WIRE_DEFAULT_ALIAS_PATH);
    uint32_t search_serial = queue_search(&c, &calls, WIRE_DEFAULT_ALIAS_PATH, attributes);
    uint32_t session_serial = queue_open_session(&c, &calls);
    status = authenticate_and_send(&c, &calls, message);
    free_writer(&calls);
    if (status == MV_SECRET_OK) {
        status = read_alias(&c, alias_serial, &collection, message);
    }
    if (status != MV_SECRET_OK) {
        goto done;
    }
    int locked = read_locked(&c, locked_serial, &alias_message);
    int found = locked == MV_SECRET_OK ? read_search(&c, search_serial, &item, &alias_message) : locked;
    if (worth_retrying(found)) {
        free(alias_message);
        alias_message = NULL;
        free(item);
        item = NULL;
        // Replies are read in order, so the first session's answer is passed over: ask again.
        locked_serial = queue_locked(&c, &calls, collection);
        search_serial = queue_search(&c, &calls, collection, attributes);
        session_serial = queue_open_session(&c, &calls);
        status = transmit(&c, &calls, message);
        free_writer(&calls);
        if (status == MV_SECRET_OK) {
            status = read_locked(&c, locked_serial, message);
        }
        if (status == MV_SECRET_OK) {
            status = read_search(&c, search_serial, &item, message);
        }
    } else {
        status = found;
        if (alias_message != NULL && message != NULL && *message == NULL) {
            *message = alias_message;
            alias_message = NULL;
        }
    }
    if (status != MV_SECRET_OK) {
        goto done;
    }

    status = await_reply(&c, session_serial, &reply, "cannot open a Secret Service session", message);
    if (status != MV_SECRET_OK) {
        goto done;
    }
    const char *variant_type = "v", *session_path;
    if (strcmp(reply.signature, "vo") != 0 || !skip_value(&reply.body, &variant_type, 0) ||
        !get_string(&reply.body, &session_path)) {
        status = unexpected(&c, &reply, "OpenSession", message);
        goto done;
    }
    put_string(&body, session_path);
    consume(&c, reply.total);
    uint32_t secret_serial = queue_call(&c, &calls, &(Call){WIRE_SECRETS, item, "org.freedesktop.Secret.Item", "GetSecret", "o"}, &body);
    status = transmit(&c, &calls, message);
    free_writer(&calls);
    if (status == MV_SECRET_OK) {
        status = await_reply(&c, secret_serial, &reply, "cannot read the keyring item", message);
    }
    if (status != MV_SECRET_OK) {
        goto done;
    }
    // (oayays): the session, the algorithm's parameters (none for plain), the value, its type.
    const char *secret_session, *parameters_type = "ay";
    uint32_t value_length;
    if (strcmp(reply.signature, "(oayays)") != 0 || !get_align(&reply.body, 8) ||
        !get_string(&reply.body, &secret_session) || !skip_value(&reply.body, &parameters_type, 0) ||
        !get_u32(&reply.body, &value_length) || value_length > reply.body.length - reply.body.position) {
        status = unexpected(&c, &reply, "GetSecret", message);
        goto done;
    }
    if (value_length > out_capacity) {
        set_message(message, "the keyring item holds a value of the wrong size%s", NULL);
        status = MV_SECRET_BAD_SIZE;
    } else {
        memcpy(out, reply.body.data + reply.body.position, value_length);
        *out_length = value_length;
    }
    consume(&c, reply.total);  // wipes the reply's copy of the value
done:
    free_writer(&calls);
    free_writer(&body);
    free(alias_message);
    free(collection);
    free(item);
    disconnect(&c);  // the service closes the session when we go
    return status;
}
