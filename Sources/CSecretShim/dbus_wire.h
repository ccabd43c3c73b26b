// The keyring's read path spoken directly on the session bus's socket, without GLib (see dbus_wire.c).
#ifndef MCP_VAULT_DBUS_WIRE_H
#define MCP_VAULT_DBUS_WIRE_H

#include "secret_shim.h"

// Returned instead of an mv_secret_status when the bus address is not one this client speaks
// (only unix:path= and unix:abstract= are): the caller then takes the GDBus path.
#define MV_WIRE_UNSUPPORTED (-1)

// Finds the default collection and checks it is persistent and unlocked (as mv_secret_probe).
int mv_wire_probe(unsigned timeout_ms, char **message);

// Reads the secret of the first item in the default collection with these attributes
// (as mv_secret_lookup); `schema` is the value of the xdg:schema attribute.
int mv_wire_lookup(const char *schema, const char *vault_id, const char *slot_id, unsigned timeout_ms,
                   unsigned char *out, size_t out_capacity, size_t *out_length, char **message);

#endif
