// See include/secret_shim.h. All GLib and libsecret use in mcp-vault is in this file.
#include "secret_shim.h"

#include <libsecret/secret.h>
#include <string.h>

#define MV_SECRETS_BUS_NAME "org.freedesktop.secrets"
#define MV_SESSION_COLLECTION_SUFFIX "/collection/session"

static const SecretSchema *mv_schema(void) {
    static const SecretSchema schema = {
        "io.github.mcp-vault.KeySlot",
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

static void set_message(char **message, const char *text) {
    if (message != NULL && *message == NULL) {
        *message = g_strdup(text);
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
        *message = g_strdup_printf("%s: %s", what, error != NULL ? error->message : "unknown error");
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
    const char *address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
    if (address == NULL || *address == '\0') {
        const char *runtime = g_getenv("XDG_RUNTIME_DIR");
        gboolean socket_exists = FALSE;
        if (runtime != NULL && *runtime != '\0') {
            char *path = g_build_filename(runtime, "bus", NULL);
            socket_exists = g_file_test(path, G_FILE_TEST_EXISTS);
            g_free(path);
        }
        if (!socket_exists) {
            set_message(message, "DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus socket");
            return MV_SECRET_NO_BUS;
        }
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


// MARK: - Direct Secret Service calls (the read path)
//
// Reading a key is on the hot path of every command, so it talks to the Secret Service API
// directly over GDBus: six round trips (connect, ReadAlias, Locked, OpenSession, SearchItems,
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
    g_free(collection);
    if (reply == NULL) {
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
        while (!outcome.completed && !deadline_expired(deadline)) {
            g_main_context_iteration(context, FALSE);
            g_usleep(10 * 1000);
        }
        if (!outcome.completed) {
            // Nobody answered in time: take the prompt away rather than leave it on the screen.
            g_dbus_connection_call_sync(bus, MV_SECRETS_BUS_NAME, prompt, "org.freedesktop.Secret.Prompt", "Dismiss", NULL, NULL,
                                        G_DBUS_CALL_FLAGS_NO_AUTO_START, 1000, NULL, NULL);
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
    g_object_unref(bus);
    return status;
}

// MARK: - Public API

mv_secret_status mv_secret_unlock_default(unsigned timeout_ms, char **message) {
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    mv_secret_status status = unlock_default(&deadline, message);
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_probe(unsigned timeout_ms, char **message) {
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
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    mv_secret_status status = direct_lookup(&deadline, vault_id, slot_id, out, out_capacity, out_length, message);
    deadline_finish(&deadline);
    return status;
}

mv_secret_status mv_secret_store(const char *vault_id, const char *slot_id, const char *label,
                                 const unsigned char *secret, size_t secret_length,
                                 unsigned timeout_ms, char **message) {
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
    g_free(message);
}
