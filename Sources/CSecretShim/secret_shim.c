// See include/secret_shim.h. All GLib and libsecret use in mcp-vault is in this file.
#include "secret_shim.h"
#include "dbus_wire.h"

#include <libsecret/secret.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Loading libsecret on first use
//
// libsecret pulls in GLib, GIO, GObject and nine more libraries whose loading and constructors
// cost every run about 2 ms; most runs (`token` from a session cache, `--version`, a passphrase-only
// vault) never touch the keyring. So nothing here is linked: the first call dlopens libsecret and
// resolves, through its dependency tree, the functions below (every GLib and libsecret symbol this
// file uses; `nm -u` on the object file lists them), which the macros that follow redirect to.

#define MV_LIBSECRET_FUNCTIONS(F) \
    F(g_build_filename) F(g_bus_get_sync) F(g_cancellable_cancel) F(g_cancellable_new) F(g_clear_error) \
    F(g_cond_clear) F(g_cond_init) F(g_cond_signal) F(g_cond_wait_until) F(g_dbus_connection_call) \
    F(g_dbus_connection_call_sync) F(g_dbus_connection_signal_subscribe) \
    F(g_dbus_connection_signal_unsubscribe) F(g_dbus_error_quark) F(g_dbus_proxy_get_object_path) \
    F(g_dbus_proxy_get_type) F(g_error_matches) F(g_file_test) F(g_free) F(g_get_monotonic_time) \
    F(g_getenv) F(g_hash_table_insert) F(g_hash_table_new) F(g_hash_table_unref) F(g_io_error_quark) \
    F(g_list_free_full) F(g_main_context_iteration) F(g_main_context_new) \
    F(g_main_context_pop_thread_default) F(g_main_context_push_thread_default) F(g_main_context_unref) \
    F(g_mutex_clear) F(g_mutex_init) F(g_mutex_lock) F(g_mutex_unlock) F(g_object_unref) F(g_str_equal) \
    F(g_str_has_suffix) F(g_str_hash) F(g_strcmp0) F(g_thread_join) \
    F(g_thread_new) F(g_type_check_instance_cast) F(g_usleep) F(g_variant_builder_add) \
    F(g_variant_builder_end) F(g_variant_builder_init) F(g_variant_get) F(g_variant_get_boolean) \
    F(g_variant_get_child_value) F(g_variant_get_fixed_array) F(g_variant_is_of_type) \
    F(g_variant_iter_free) F(g_variant_iter_n_children) F(g_variant_iter_next) F(g_variant_new) \
    F(g_variant_new_string) F(g_variant_type_checked_) F(g_variant_unref) \
    F(secret_collection_for_alias_sync) F(secret_collection_get_locked) F(secret_collection_search_sync) \
    F(secret_item_create_sync) F(secret_item_delete_sync) F(secret_item_get_type) \
    F(secret_service_get_sync) F(secret_value_new) F(secret_value_unref)

#define MV_DECLARE_POINTER(name) __typeof__(name) *name;
static struct {
    MV_LIBSECRET_FUNCTIONS(MV_DECLARE_POINTER)
} mv_lib;

#define MV_LIBSECRET_SONAME "libsecret-1.so.0"
static pthread_once_t mv_lib_once = PTHREAD_ONCE_INIT;
static char mv_lib_failure[512];  // empty when the library loaded

static void mv_lib_load(void) {
    void *handle = dlopen(MV_LIBSECRET_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(mv_lib_failure, sizeof mv_lib_failure, "%s", dlerror());
        return;
    }
#define MV_RESOLVE(name)                                                                                 \
    if ((mv_lib.name = (__typeof__(name) *)dlsym(handle, #name)) == NULL) {                              \
        snprintf(mv_lib_failure, sizeof mv_lib_failure, "%s has no function %s: this libsecret or GLib is too old", \
                 MV_LIBSECRET_SONAME, #name);                                                           \
        return;                                                                                          \
    }
    MV_LIBSECRET_FUNCTIONS(MV_RESOLVE)
#undef MV_RESOLVE
}

// Loads libsecret once per process. On failure sets `message` (malloc'd) and returns false.
static bool mv_lib_ready(char **message) {
    pthread_once(&mv_lib_once, mv_lib_load);
    if (mv_lib_failure[0] == '\0') {
        return true;
    }
    if (message != NULL && *message == NULL) {
        *message = strdup(mv_lib_failure);
    }
    return false;
}

#undef g_build_filename
#define g_build_filename (*mv_lib.g_build_filename)
#undef g_bus_get_sync
#define g_bus_get_sync (*mv_lib.g_bus_get_sync)
#undef g_cancellable_cancel
#define g_cancellable_cancel (*mv_lib.g_cancellable_cancel)
#undef g_cancellable_new
#define g_cancellable_new (*mv_lib.g_cancellable_new)
#undef g_clear_error
#define g_clear_error (*mv_lib.g_clear_error)
#undef g_cond_clear
#define g_cond_clear (*mv_lib.g_cond_clear)
#undef g_cond_init
#define g_cond_init (*mv_lib.g_cond_init)
#undef g_cond_signal
#define g_cond_signal (*mv_lib.g_cond_signal)
#undef g_cond_wait_until
#define g_cond_wait_until (*mv_lib.g_cond_wait_until)
#undef g_dbus_connection_call
#define g_dbus_connection_call (*mv_lib.g_dbus_connection_call)
#undef g_dbus_connection_call_sync
#define g_dbus_connection_call_sync (*mv_lib.g_dbus_connection_call_sync)
#undef g_dbus_connection_signal_subscribe
#define g_dbus_connection_signal_subscribe (*mv_lib.g_dbus_connection_signal_subscribe)
#undef g_dbus_connection_signal_unsubscribe
#define g_dbus_connection_signal_unsubscribe (*mv_lib.g_dbus_connection_signal_unsubscribe)
#undef g_dbus_error_quark
#define g_dbus_error_quark (*mv_lib.g_dbus_error_quark)
#undef g_dbus_proxy_get_object_path
#define g_dbus_proxy_get_object_path (*mv_lib.g_dbus_proxy_get_object_path)
#undef g_dbus_proxy_get_type
#define g_dbus_proxy_get_type (*mv_lib.g_dbus_proxy_get_type)
#undef g_error_matches
#define g_error_matches (*mv_lib.g_error_matches)
#undef g_file_test
#define g_file_test (*mv_lib.g_file_test)
#undef g_free
#define g_free (*mv_lib.g_free)
#undef g_get_monotonic_time
#define g_get_monotonic_time (*mv_lib.g_get_monotonic_time)
#undef g_getenv
#define g_getenv (*mv_lib.g_getenv)
#undef g_hash_table_insert
#define g_hash_table_insert (*mv_lib.g_hash_table_insert)
#undef g_hash_table_new
#define g_hash_table_new (*mv_lib.g_hash_table_new)
#undef g_hash_table_unref
#define g_hash_table_unref (*mv_lib.g_hash_table_unref)
#undef g_io_error_quark
#define g_io_error_quark (*mv_lib.g_io_error_quark)
#undef g_list_free_full
#define g_list_free_full (*mv_lib.g_list_free_full)
#undef g_main_context_iteration
#define g_main_context_iteration (*mv_lib.g_main_context_iteration)
#undef g_main_context_new
#define g_main_context_new (*mv_lib.g_main_context_new)
#undef g_main_context_pop_thread_default
#define g_main_context_pop_thread_default (*mv_lib.g_main_context_pop_thread_default)
#undef g_main_context_push_thread_default
#define g_main_context_push_thread_default (*mv_lib.g_main_context_push_thread_default)
#undef g_main_context_unref
#define g_main_context_unref (*mv_lib.g_main_context_unref)
#undef g_mutex_clear
#define g_mutex_clear (*mv_lib.g_mutex_clear)
#undef g_mutex_init
#define g_mutex_init (*mv_lib.g_mutex_init)
#undef g_mutex_lock
#define g_mutex_lock (*mv_lib.g_mutex_lock)
#undef g_mutex_unlock
#define g_mutex_unlock (*mv_lib.g_mutex_unlock)
#undef g_object_unref
#define g_object_unref (*mv_lib.g_object_unref)
#undef g_str_equal
#define g_str_equal (*mv_lib.g_str_equal)
#undef g_str_has_suffix
#define g_str_has_suffix (*mv_lib.g_str_has_suffix)
#undef g_str_hash
#define g_str_hash (*mv_lib.g_str_hash)
#undef g_strcmp0
#define g_strcmp0 (*mv_lib.g_strcmp0)
#undef g_thread_join
#define g_thread_join (*mv_lib.g_thread_join)
#undef g_thread_new
#define g_thread_new (*mv_lib.g_thread_new)
#undef g_type_check_instance_cast
#define g_type_check_instance_cast (*mv_lib.g_type_check_instance_cast)
#undef g_usleep
#define g_usleep (*mv_lib.g_usleep)
#undef g_variant_builder_add
#define g_variant_builder_add (*mv_lib.g_variant_builder_add)
#undef g_variant_builder_end
#define g_variant_builder_end (*mv_lib.g_variant_builder_end)
#undef g_variant_builder_init
#define g_variant_builder_init (*mv_lib.g_variant_builder_init)
#undef g_variant_get
#define g_variant_get (*mv_lib.g_variant_get)
#undef g_variant_get_boolean
#define g_variant_get_boolean (*mv_lib.g_variant_get_boolean)
#undef g_variant_get_child_value
#define g_variant_get_child_value (*mv_lib.g_variant_get_child_value)
#undef g_variant_get_fixed_array
#define g_variant_get_fixed_array (*mv_lib.g_variant_get_fixed_array)
#undef g_variant_is_of_type
#define g_variant_is_of_type (*mv_lib.g_variant_is_of_type)
#undef g_variant_iter_free
#define g_variant_iter_free (*mv_lib.g_variant_iter_free)
#undef g_variant_iter_n_children
#define g_variant_iter_n_children (*mv_lib.g_variant_iter_n_children)
#undef g_variant_iter_next
#define g_variant_iter_next (*mv_lib.g_variant_iter_next)
#undef g_variant_new
#define g_variant_new (*mv_lib.g_variant_new)
#undef g_variant_new_string
#define g_variant_new_string (*mv_lib.g_variant_new_string)
#undef g_variant_type_checked_
#define g_variant_type_checked_ (*mv_lib.g_variant_type_checked_)
#undef g_variant_unref
#define g_variant_unref (*mv_lib.g_variant_unref)
#undef secret_collection_for_alias_sync
#define secret_collection_for_alias_sync (*mv_lib.secret_collection_for_alias_sync)
#undef secret_collection_get_locked
#define secret_collection_get_locked (*mv_lib.secret_collection_get_locked)
#undef secret_collection_search_sync
#define secret_collection_search_sync (*mv_lib.secret_collection_search_sync)
#undef secret_item_create_sync
#define secret_item_create_sync (*mv_lib.secret_item_create_sync)
#undef secret_item_delete_sync
#define secret_item_delete_sync (*mv_lib.secret_item_delete_sync)
#undef secret_item_get_type
#define secret_item_get_type (*mv_lib.secret_item_get_type)
#undef secret_service_get_sync
#define secret_service_get_sync (*mv_lib.secret_service_get_sync)
#undef secret_value_new
#define secret_value_new (*mv_lib.secret_value_new)
#undef secret_value_unref
#define secret_value_unref (*mv_lib.secret_value_unref)

#define MV_SECRETS_BUS_NAME "org.freedesktop.secrets"
#define MV_SESSION_COLLECTION_SUFFIX "/collection/session"

#define MV_SCHEMA_NAME "io.github.mcp-vault.KeySlot"

static const SecretSchema *mv_schema(void) {
    static const SecretSchema schema = {
        MV_SCHEMA_NAME,
        SECRET_SCHEMA_NONE,
        {
            {"vault-id", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {"slot-id", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {NULL, 0},
        },
        0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    };
    return &schema;
}

// MARK: - Deadline: a cancellable that a timer thread cancels when time runs out.

typedef struct {
    GCancellable *cancellable;
    GMutex mutex;
    GCond cond;
    gboolean finished;
    gboolean expired;
    gint64 end_time;
    GThread *thread;
} Deadline;

static gpointer deadline_run(gpointer data) {
    Deadline *deadline = data;
    g_mutex_lock(&deadline->mutex);
    while (!deadline->finished) {
        if (!g_cond_wait_until(&deadline->cond, &deadline->mutex, deadline->end_time)) {
            if (!deadline->finished) {
                deadline->expired = TRUE;
                g_cancellable_cancel(deadline->cancellable);
            }
            break;
        }
    }
    g_mutex_unlock(&deadline->mutex);
    return NULL;
}

static void deadline_start(Deadline *deadline, unsigned timeout_ms) {
    memset(deadline, 0, sizeof *deadline);
    deadline->cancellable = g_cancellable_new();
    g_mutex_init(&deadline->mutex);
    g_cond_init(&deadline->cond);
    deadline->end_time = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
    deadline->thread = g_thread_new("mcp-vault-deadline", deadline_run, deadline);
}

static void deadline_finish(Deadline *deadline) {
    g_mutex_lock(&deadline->mutex);
    deadline->finished = TRUE;
    g_cond_signal(&deadline->cond);
    g_mutex_unlock(&deadline->mutex);
    g_thread_join(deadline->thread);
    g_object_unref(deadline->cancellable);
    g_mutex_clear(&deadline->mutex);
    g_cond_clear(&deadline->cond);
}

static gint remaining_ms(const Deadline *deadline) {
    gint64 left = (deadline->end_time - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
    return left < 1 ? 1 : (gint)left;
}

// MARK: - Errors
//
// Messages for the caller are allocated with malloc (never by GLib), so that
// mv_secret_free_message can free them whether or not libsecret was ever loaded.

static void set_message(char **message, const char *text) {
    if (message != NULL && *message == NULL) {
        *message = strdup(text);
    }
}

static gboolean deadline_expired(Deadline *deadline) {
    g_mutex_lock(&deadline->mutex);
    gboolean expired = deadline->expired;
    g_mutex_unlock(&deadline->mutex);
    return expired;
}

static mv_secret_status fail(Deadline *deadline, GError *error, const char *what, char **message) {
    mv_secret_status status = MV_SECRET_FAILED;
    if (deadline_expired(deadline) || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)) {
        status = MV_SECRET_TIMEOUT;
    } else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
        status = MV_SECRET_NO_SERVICE;
    }
    if (message != NULL && *message == NULL) {
        const char *reason = error != NULL ? error->message : "unknown error";
        size_t size = strlen(what) + strlen(reason) + 3;
        *message = malloc(size);
        if (*message != NULL) {
            snprintf(*message, size, "%s: %s", what, reason);
        }
    }
    g_clear_error(&error);
    return status;
}

// MARK: - Reaching the default collection

static gboolean name_in_list(GVariant *reply, const char *name) {
    GVariantIter *iter = NULL;
    const char *entry = NULL;
    gboolean found = FALSE;
    g_variant_get(reply, "(as)", &iter);
    while (g_variant_iter_next(iter, "&s", &entry)) {
        if (g_strcmp0(entry, name) == 0) {
            found = TRUE;
        }
    }
    g_variant_iter_free(iter);
    return found;
}

static mv_secret_status connect_session_bus(Deadline *deadline, GDBusConnection **out, char **message) {
    // The programs find the bus at start-up (SessionBus.adopt: $XDG_RUNTIME_DIR/bus or
    // /run/user/UID/bus, owner-checked) and set the variable; without it GLib would try to
    // autolaunch a bus of its own, which must never happen.
    const char *address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
    if (address == NULL || *address == '\0') {
        set_message(message, "DBUS_SESSION_BUS_ADDRESS is not set and neither $XDG_RUNTIME_DIR/bus nor /run/user/UID/bus is a bus socket of this user's");
        return MV_SECRET_NO_BUS;
    }

    GError *error = NULL;
    GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, deadline->cancellable, &error);
    if (bus == NULL) {
        mv_secret_status status = fail(deadline, error, "cannot connect to the D-Bus session bus", message);
        return status == MV_SECRET_TIMEOUT ? status : MV_SECRET_NO_BUS;
    }
    *out = bus;
    return MV_SECRET_OK;
}

// For libsecret's paths: tells "no service" apart before libsecret's proxies hide it.
static mv_secret_status require_service(Deadline *deadline, char **message) {
    GDBusConnection *bus = NULL;
    GError *error = NULL;
    mv_secret_status status = connect_session_bus(deadline, &bus, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    GVariant *reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        g_variant_new("(s)", MV_SECRETS_BUS_NAME), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE,
        remaining_ms(deadline), deadline->cancellable, &error);
    if (reply == NULL) {
        g_object_unref(bus);
        return fail(deadline, error, "the D-Bus session bus did not answer", message);
    }
    gboolean has_owner = FALSE;
    g_variant_get(reply, "(b)", &has_owner);
    g_variant_unref(reply);
    if (has_owner) {
        g_object_unref(bus);
        return MV_SECRET_OK;
    }

    reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames",
        NULL, G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, remaining_ms(deadline), deadline->cancellable,
        &error);
    g_object_unref(bus);
    if (reply == NULL) {
        return fail(deadline, error, "the D-Bus session bus did not answer", message);
    }
    gboolean activatable = name_in_list(reply, MV_SECRETS_BUS_NAME);
    g_variant_unref(reply);
    if (!activatable) {
        set_message(message, "no Secret Service (org.freedesktop.secrets) is running or activatable on the session bus");
        return MV_SECRET_NO_SERVICE;
    }
    return MV_SECRET_OK;
}

// Opens the default collection and checks that items can be read without a prompt.
static mv_secret_status open_default_collection(Deadline *deadline, SecretServiceFlags flags,
                                                SecretCollection **out, char **message) {
    mv_secret_status status = require_service(deadline, message);
    if (status != MV_SECRET_OK) {
        return status;
    }

    GError *error = NULL;
    SecretService *service = secret_service_get_sync(flags, deadline->cancellable, &error);
    if (service == NULL) {
        return fail(deadline, error, "cannot reach the Secret Service", message);
    }
    SecretCollection *collection = secret_collection_for_alias_sync(
        service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, deadline->cancellable, &error);
    g_object_unref(service);
    if (collection == NULL) {
        if (error != NULL) {
            return fail(deadline, error, "cannot read the default collection", message);
        }
        set_message(message, "the Secret Service has no default collection");
        return MV_SECRET_NO_DEFAULT;
    }

    const char *path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(collection));
    if (path != NULL && g_str_has_suffix(path, MV_SESSION_COLLECTION_SUFFIX)) {
        g_object_unref(collection);
        set_message(message, "the default collection is the in-memory session collection, which forgets everything at logout");
        return MV_SECRET_VOLATILE;
    }
    if (secret_collection_get_locked(collection)) {
        g_object_unref(collection);
        set_message(message, "the default collection is locked");
        return MV_SECRET_LOCKED;
    }
    *out = collection;
    return MV_SECRET_OK;
}

static GHashTable *slot_attributes(const char *vault_id, const char *slot_id) {
    GHashTable *attributes = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(attributes, (gpointer) "vault-id", (gpointer)vault_id);
    g_hash_table_insert(attributes, (gpointer) "slot-id", (gpointer)slot_id);
    return attributes;
}


// MARK: - Direct Secret Service calls (the read path when the bus is not a unix socket path)
//
// Reading a key is on the hot path of every command, so it talks to the Secret Service API
// directly: on a unix:path= or unix:abstract= bus without GLib at all (dbus_wire.c), on any
// other address over GDBus: six round trips (connect, ReadAlias, Locked, OpenSession, SearchItems,
// GetSecret) instead of the dozens that libsecret's proxies make. The session uses the "plain"
// algorithm: the secret crosses the user's own session-bus socket, which only the user's own
// processes can reach, and those can ask the Secret Service for the item anyway.

#define MV_SERVICE_PATH "/org/freedesktop/secrets"
#define MV_SERVICE_IFACE "org.freedesktop.Secret.Service"

static GVariant *call(GDBusConnection *bus, Deadline *deadline, const char *path, const char *interface,
                      const char *method, GVariant *arguments, const char *reply_type, GError **error) {
    return g_dbus_connection_call_sync(bus, MV_SECRETS_BUS_NAME, path, interface, method, arguments,
                                       G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NONE, remaining_ms(deadline),
                                       deadline->cancellable, error);
}

// Connects and reads the object path the "default" alias names ("/" when none). On success the
// caller owns *out_bus and *out_path.
static mv_secret_status read_default_alias(Deadline *deadline, GDBusConnection **out_bus, char **out_path, char **message) {
    GDBusConnection *bus = NULL;
    mv_secret_status status = connect_session_bus(deadline, &bus, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    GError *error = NULL;
    GVariant *reply = call(bus, deadline, MV_SERVICE_PATH, MV_SERVICE_IFACE, "ReadAlias",
                           g_variant_new("(s)", "default"), "(o)", &error);
    if (reply == NULL) {
        g_object_unref(bus);
        return fail(deadline, error, "cannot read the default collection alias", message);
    }
    g_variant_get(reply, "(o)", out_path);
    g_variant_unref(reply);
    *out_bus = bus;
    return MV_SECRET_OK;
}

// Connects and finds the default collection's object path, checking it is persistent and unlocked.
static mv_secret_status direct_default_collection(Deadline *deadline, GDBusConnection **out_bus, char **out_path,
                                                  char **message) {
    GDBusConnection *bus = NULL;
    char *path = NULL;
    mv_secret_status status = read_default_alias(deadline, &bus, &path, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    if (g_strcmp0(path, "/") == 0) {
        g_free(path);
        g_object_unref(bus);
        set_message(message, "the Secret Service has no default collection");
        return MV_SECRET_NO_DEFAULT;
    }
    if (g_str_has_suffix(path, MV_SESSION_COLLECTION_SUFFIX)) {
        g_free(path);
        g_object_unref(bus);
        set_message(message, "the default collection is the in-memory session collection, which forgets everything at logout");
        return MV_SECRET_VOLATILE;
    }
    GError *error = NULL;
    GVariant *reply = call(bus, deadline, path, "org.freedesktop.DBus.Properties", "Get",
                 g_variant_new("(ss)", "org.freedesktop.Secret.Collection", "Locked"), "(v)", &error);
    if (reply == NULL) {
        g_free(path);
        g_object_unref(bus);
        return fail(deadline, error, "cannot read the default collection's lock state", message);
    }
    GVariant *value = NULL;
    g_variant_get(reply, "(v)", &value);
    gboolean locked = g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN) ? g_variant_get_boolean(value) : TRUE;
    g_variant_unref(value);
    g_variant_unref(reply);
    if (locked) {
        g_free(path);
        g_object_unref(bus);
        set_message(message, "the default collection is locked");
        return MV_SECRET_LOCKED;
    }
    *out_bus = bus;
    *out_path = path;
    return MV_SECRET_OK;
}

static GVariant *attributes_variant(const char *vault_id, const char *slot_id) {
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&builder, "{ss}", "xdg:schema", mv_schema()->name);
    g_variant_builder_add(&builder, "{ss}", "vault-id", vault_id);
    g_variant_builder_add(&builder, "{ss}", "slot-id", slot_id);
    return g_variant_builder_end(&builder);
}

static mv_secret_status direct_lookup(Deadline *deadline, const char *vault_id, const char *slot_id,
                                      unsigned char *out, size_t out_capacity, size_t *out_length, char **message) {
    GDBusConnection *bus = NULL;
    char *collection = NULL;
    mv_secret_status status = direct_default_collection(deadline, &bus, &collection, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    GError *error = NULL;
    GVariant *reply = call(bus, deadline, collection, "org.freedesktop.Secret.Collection", "SearchItems",
                           g_variant_new("(@a{ss})", attributes_variant(vault_id, slot_id)), "(ao)", &error);
    g_free(collection);
    if (reply == NULL) {
        g_object_unref(bus);
        return fail(deadline, error, "cannot search the default collection", message);
    }
    GVariantIter *items = NULL;
    char *item = NULL;
    g_variant_get(reply, "(ao)", &items);
    gboolean found = g_variant_iter_next(items, "o", &item);
    g_variant_iter_free(items);
    g_variant_unref(reply);
    if (!found) {
        g_object_unref(bus);
        set_message(message, "the keyring has no key for this vault");
        return MV_SECRET_NOT_FOUND;
    }

    reply = call(bus, deadline, MV_SERVICE_PATH, MV_SERVICE_IFACE, "OpenSession",
                 g_variant_new("(sv)", "plain", g_variant_new_string("")), "(vo)", &error);
    if (reply == NULL) {
        g_free(item);
        g_object_unref(bus);
        return fail(deadline, error, "cannot open a Secret Service session", message);
    }
    GVariant *ignored = NULL;
    char *session = NULL;
    g_variant_get(reply, "(vo)", &ignored, &session);
    g_variant_unref(ignored);
    g_variant_unref(reply);

    reply = call(bus, deadline, item, "org.freedesktop.Secret.Item", "GetSecret",
                 g_variant_new("(o)", session), "((oayays))", &error);
    g_free(item);
    if (reply == NULL) {
        status = fail(deadline, error, "cannot read the keyring item", message);
    } else {
        GVariant *secret = g_variant_get_child_value(reply, 0);
        GVariant *bytes = g_variant_get_child_value(secret, 2);
        gsize length = 0;
        const guchar *data = g_variant_get_fixed_array(bytes, &length, sizeof(guchar));
        if (length > out_capacity) {
            status = MV_SECRET_BAD_SIZE;
            set_message(message, "the keyring item holds a value of the wrong size");
        } else {
            memcpy(out, data, length);
            *out_length = length;
        }
        // GVariant memory is not secure memory: wipe this copy (best effort: GDBus's own
        // message buffers are freed without wiping).
        memset((void *)data, 0, length);
        g_variant_unref(bytes);
        g_variant_unref(secret);
        g_variant_unref(reply);
    }
    // Closing the session is a courtesy; the service also closes it when we disconnect.
    g_dbus_connection_call(bus, MV_SECRETS_BUS_NAME, session, "org.freedesktop.Secret.Session", "Close", NULL, NULL,
                           G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
    g_free(session);
    g_object_unref(bus);
    return status;
}

// MARK: - Unlocking through the service's prompt

typedef struct {
    gboolean completed;
    gboolean dismissed;
} PromptOutcome;

static void prompt_completed(GDBusConnection *bus, const gchar *sender, const gchar *path, const gchar *interface,
                             const gchar *signal, GVariant *parameters, gpointer data) {
    (void)bus; (void)sender; (void)path; (void)interface; (void)signal;
    PromptOutcome *outcome = data;
    GVariant *result = NULL;
    gboolean dismissed = TRUE;
    if (g_variant_is_of_type(parameters, G_VARIANT_TYPE("(bv)"))) {
        g_variant_get(parameters, "(bv)", &dismissed, &result);
        g_variant_unref(result);
    }
    outcome->completed = TRUE;
    outcome->dismissed = dismissed;
}

static gboolean collection_unlocked(GDBusConnection *bus, Deadline *deadline, const char *collection) {
    GVariant *reply = call(bus, deadline, collection, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new("(ss)", "org.freedesktop.Secret.Collection", "Locked"), "(v)", NULL);
    if (reply == NULL) {
        return FALSE;
    }
    GVariant *value = NULL;
    g_variant_get(reply, "(v)", &value);
    gboolean unlocked = g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN) && !g_variant_get_boolean(value);
    g_variant_unref(value);
    g_variant_unref(reply);
    return unlocked;
}

static mv_secret_status unlock_default(Deadline *deadline, char **message) {
    GDBusConnection *bus = NULL;
    char *collection = NULL;
    mv_secret_status status = read_default_alias(deadline, &bus, &collection, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    GError *error = NULL;
    const char *objects[] = {collection, NULL};
    GVariant *reply = call(bus, deadline, MV_SERVICE_PATH, MV_SERVICE_IFACE, "Unlock", g_variant_new("(^ao)", objects), "(aoo)", &error);
    if (reply == NULL) {
        g_free(collection);
        g_object_unref(bus);
        return fail(deadline, error, "the Secret Service refused to unlock the default collection", message);
    }
    GVariantIter *unlocked = NULL;
    char *prompt = NULL;
    g_variant_get(reply, "(aoo)", &unlocked, &prompt);
    gsize count = g_variant_iter_n_children(unlocked);
    g_variant_iter_free(unlocked);
    g_variant_unref(reply);
    if (g_strcmp0(prompt, "/") == 0) {
        g_free(prompt);
        g_free(collection);
        g_object_unref(bus);
        if (count > 0) {
            return MV_SECRET_OK;
        }
        set_message(message, "the Secret Service did not unlock the default collection");
        return MV_SECRET_LOCKED;
    }
    // The answer comes as the prompt's Completed signal, delivered to this thread's context.
    GMainContext *context = g_main_context_new();
    g_main_context_push_thread_default(context);
    PromptOutcome outcome = {FALSE, TRUE};
    guint subscription = g_dbus_connection_signal_subscribe(bus, MV_SECRETS_BUS_NAME, "org.freedesktop.Secret.Prompt", "Completed",
                                                            prompt, NULL, G_DBUS_SIGNAL_FLAGS_NONE, prompt_completed, &outcome, NULL);
    reply = call(bus, deadline, prompt, "org.freedesktop.Secret.Prompt", "Prompt", g_variant_new("(s)", ""), "()", &error);
    if (reply == NULL) {
        status = fail(deadline, error, "the unlock prompt could not be shown", message);
    } else {
        g_variant_unref(reply);
        // The collection may also be unlocked another way meanwhile (another program's prompt,
        // the user's login): its lock state is read every quarter of a second as well.
        gboolean unlocked_elsewhere = FALSE;
        for (unsigned tick = 1; !outcome.completed && !unlocked_elsewhere && !deadline_expired(deadline); tick++) {
            g_main_context_iteration(context, FALSE);
            g_usleep(10 * 1000);
            if (tick % 25 == 0) {
                unlocked_elsewhere = collection_unlocked(bus, deadline, collection);
            }
        }
        // The prompt is never dismissed from here: gnome-keyring 42 aborts (gkd-secret-unlock.c,
        // assertion !self->current) when a client calls Dismiss on an unlock prompt while its
        // dialog is up, which would take every secret of the session down with it. Stopping the
        // wait is harmless: the dialog stays, and answering it later unlocks the keyring.
        if (unlocked_elsewhere) {
            status = MV_SECRET_OK;
        } else if (!outcome.completed) {
            set_message(message, "nobody answered the keyring's unlock prompt in time");
            status = MV_SECRET_TIMEOUT;
        } else if (outcome.dismissed) {
            set_message(message, "the keyring's unlock prompt was dismissed");
            status = MV_SECRET_LOCKED;
        } else {
            status = MV_SECRET_OK;
        }
    }
    g_dbus_connection_signal_unsubscribe(bus, subscription);
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
    g_free(prompt);
    g_free(collection);
    g_object_unref(bus);
    return status;
}

// MARK: - The user's service manager

// The `Environment` property of systemd's user manager (org.freedesktop.systemd1.Manager): the
// graphical session's variables, which a program started with a stripped environment lacks.
// Never starts anything (no auto-start). *out receives the entries, each ended by a NUL byte.
static mv_secret_status read_manager_environment(Deadline *deadline, char **out, size_t *out_length, char **message) {
    GDBusConnection *bus = NULL;
    mv_secret_status status = connect_session_bus(deadline, &bus, message);
    if (status != MV_SECRET_OK) {
        return status;
    }
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.DBus.Properties", "Get",
        g_variant_new("(ss)", "org.freedesktop.systemd1.Manager", "Environment"), G_VARIANT_TYPE("(v)"),
        G_DBUS_CALL_FLAGS_NO_AUTO_START, remaining_ms(deadline), deadline->cancellable, &error);
    g_object_unref(bus);
    if (reply == NULL) {
        return fail(deadline, error, "the user's service manager did not give its environment", message);
    }
    GVariant *value = NULL;
    g_variant_get(reply, "(v)", &value);
    g_variant_unref(reply);
    if (!g_variant_is_of_type(value, G_VARIANT_TYPE("as"))) {
        g_variant_unref(value);
        set_message(message, "the user's service manager gave its environment in an unexpected type");
        return MV_SECRET_FAILED;
    }
    size_t total = 0;
    GVariantIter *iter = NULL;
    const char *entry = NULL;
    g_variant_get(value, "as", &iter);
    while (g_variant_iter_next(iter, "&s", &entry)) {
        total += strlen(entry) + 1;
    }
    g_variant_iter_free(iter);
    char *buffer = malloc(total + 1);
    if (buffer == NULL) {
        g_variant_unref(value);
        set_message(message, "out of memory");
        return MV_SECRET_FAILED;
    }
    size_t offset = 0;
    g_variant_get(value, "as", &iter);
    while (g_variant_iter_next(iter, "&s", &entry)) {
        size_t length = strlen(entry) + 1;
        memcpy(buffer + offset, entry, length);
        offset += length;
    }
    g_variant_iter_free(iter);
    g_variant_unref(value);
    *out = buffer;
    *out_length = offset;
    return MV_SECRET_OK;
}

// MARK: - Public API

mv_secret_status mv_session_manager_environment(unsigned timeout_ms, char **out, size_t *out_length, char **message) {
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    mv_secret_status status = read_manager_environment(&deadline, out, out_length, message);
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_unlock_default(unsigned timeout_ms, char **message) {
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    mv_secret_status status = unlock_default(&deadline, message);
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_probe(unsigned timeout_ms, char **message) {
    // The probe answers "could a key be stored and read now": storing needs libsecret.
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    int wire = mv_wire_probe(timeout_ms, message);
    if (wire != MV_WIRE_UNSUPPORTED) {
        return (mv_secret_status)wire;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    GDBusConnection *bus = NULL;
    char *collection = NULL;
    mv_secret_status status = direct_default_collection(&deadline, &bus, &collection, message);
    g_free(collection);
    if (bus != NULL) {
        g_object_unref(bus);
    }
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_lookup(const char *vault_id, const char *slot_id, unsigned timeout_ms,
                                  unsigned char *out, size_t out_capacity, size_t *out_length,
                                  char **message) {
    int wire = mv_wire_lookup(MV_SCHEMA_NAME, vault_id, slot_id, timeout_ms, out, out_capacity, out_length, message);
    if (wire != MV_WIRE_UNSUPPORTED) {
        return (mv_secret_status)wire;
    }
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    mv_secret_status status = direct_lookup(&deadline, vault_id, slot_id, out, out_capacity, out_length, message);
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_store(const char *vault_id, const char *slot_id, const char *label,
                                 const unsigned char *secret, size_t secret_length,
                                 unsigned timeout_ms, char **message) {
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    SecretCollection *collection = NULL;
    mv_secret_status status = open_default_collection(&deadline, SECRET_SERVICE_OPEN_SESSION, &collection, message);
    if (status != MV_SECRET_OK) {
        deadline_finish(&deadline);
        return status;
    }

    GError *error = NULL;
    GHashTable *attributes = slot_attributes(vault_id, slot_id);
    SecretValue *value = secret_value_new((const gchar *)secret, (gssize)secret_length, "application/octet-stream");
    SecretItem *item = secret_item_create_sync(collection, mv_schema(), attributes, label, value,
                                               SECRET_ITEM_CREATE_REPLACE, deadline.cancellable, &error);
    secret_value_unref(value);
    g_hash_table_unref(attributes);
    g_object_unref(collection);
    if (item == NULL) {
        status = fail(&deadline, error, "cannot store the key in the keyring", message);
    } else {
        g_object_unref(item);
    }
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_clear(const char *vault_id, const char *slot_id, unsigned timeout_ms, char **message) {
    if (!mv_lib_ready(message)) {
        return MV_SECRET_NO_LIBRARY;
    }
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    SecretCollection *collection = NULL;
    mv_secret_status status = open_default_collection(&deadline, SECRET_SERVICE_NONE, &collection, message);
    if (status != MV_SECRET_OK) {
        deadline_finish(&deadline);
        return status;
    }

    GError *error = NULL;
    GHashTable *attributes = slot_attributes(vault_id, slot_id);
    GList *items = secret_collection_search_sync(collection, mv_schema(), attributes, SECRET_SEARCH_ALL,
                                                 deadline.cancellable, &error);
    g_hash_table_unref(attributes);
    g_object_unref(collection);
    if (error != NULL) {
        status = fail(&deadline, error, "cannot search the default collection", message);
    }
    for (GList *entry = items; entry != NULL && status == MV_SECRET_OK; entry = entry->next) {
        if (!secret_item_delete_sync(SECRET_ITEM(entry->data), deadline.cancellable, &error)) {
            status = fail(&deadline, error, "cannot delete the keyring item", message);
        }
    }
    g_list_free_full(items, g_object_unref);
    deadline_finish(&deadline);
    return status;
}

void mv_secret_free_message(char *message) {
    free(message);
}
