// A flat, deadline-bound API over libsecret for the one item kind mcp-vault stores:
// the key-encryption key of a vault's secret-service slot. libsecret is not linked: the first call
// loads it (dlopen), so programs that never use the keyring do not pay for loading it.
//
// The read path (mv_secret_probe, mv_secret_lookup) speaks D-Bus itself on a unix-socket bus and
// loads nothing (dbus_wire.c); libsecret and GDBus serve other bus addresses and every write.
//
// Every call runs under one deadline (a GCancellable cancelled by a timer thread), checks
// the default collection's lock state before touching items, and never asks the service to
// unlock anything (except mv_secret_unlock_default, which exists to), so no call can block forever.
#ifndef MCP_VAULT_SECRET_SHIM_H
#define MCP_VAULT_SECRET_SHIM_H

#include <stddef.h>

typedef enum {
    MV_SECRET_OK = 0,
    MV_SECRET_NOT_FOUND = 1,          // the collection is usable, the item is not there
    MV_SECRET_NO_BUS = 2,             // no D-Bus session bus to connect to
    MV_SECRET_NO_SERVICE = 3,         // the bus has no org.freedesktop.secrets (running or activatable)
    MV_SECRET_NO_DEFAULT = 4,         // the service has no "default" collection alias
    MV_SECRET_LOCKED = 5,             // the default collection is locked
    MV_SECRET_VOLATILE = 6,           // "default" points at the in-memory session collection
    MV_SECRET_TIMEOUT = 7,            // the deadline passed before the service answered
    MV_SECRET_FAILED = 8,             // anything else; the message says what
    MV_SECRET_BAD_SIZE = 9,           // the stored secret does not fit the caller's buffer
    MV_SECRET_NO_LIBRARY = 10,        // libsecret (loaded on first use) cannot be loaded
} mv_secret_status;

// Checks that a key could be stored and read now: libsecret loads (storing needs it), and bus,
// service and default collection. `message` (may be NULL) receives a malloc'd
// description on failure; free it with mv_secret_free_message.
mv_secret_status mv_secret_probe(unsigned timeout_ms, char **message);

// Looks up the slot key stored for (vault_id, slot_id) in the default collection.
// On success copies it to `out` (capacity `out_capacity`) and sets `*out_length`.
mv_secret_status mv_secret_lookup(const char *vault_id, const char *slot_id, unsigned timeout_ms,
                                  unsigned char *out, size_t out_capacity, size_t *out_length,
                                  char **message);

// Stores (or replaces) the slot key for (vault_id, slot_id) in the default collection.
mv_secret_status mv_secret_store(const char *vault_id, const char *slot_id, const char *label,
                                 const unsigned char *secret, size_t secret_length,
                                 unsigned timeout_ms, char **message);

// Deletes every item stored for (vault_id, slot_id). No item is not an error.
mv_secret_status mv_secret_clear(const char *vault_id, const char *slot_id, unsigned timeout_ms,
                                 char **message);

// Asks the Secret Service to unlock the default collection, which shows the desktop's own
// unlock prompt, and waits for the answer until the deadline. MV_SECRET_OK: unlocked (or it
// was not locked); MV_SECRET_LOCKED: the prompt was dismissed; MV_SECRET_TIMEOUT: no answer in
// time (the prompt is left as it is: gnome-keyring 42 aborts when a client dismisses it), and
// also MV_SECRET_OK when the collection is unlocked some other way meanwhile. The only call here
// that may show anything.
mv_secret_status mv_secret_unlock_default(unsigned timeout_ms, char **message);

// The environment of the user's service manager (systemd --user, on the session bus): the
// graphical session's DISPLAY, WAYLAND_DISPLAY and the like. On success *out is malloc'd (free
// it with mv_secret_free_message) and holds the "NAME=value" entries, each ended by a NUL byte.
mv_secret_status mv_session_manager_environment(unsigned timeout_ms, char **out, size_t *out_length, char **message);

void mv_secret_free_message(char *message);

#endif
