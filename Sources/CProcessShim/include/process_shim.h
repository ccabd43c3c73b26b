// System calls Swift cannot reach directly: prctl(2) is variadic, syncfs(2) and parts of
// posix_spawn need _GNU_SOURCE.
#ifndef MCP_VAULT_PROCESS_SHIM_H
#define MCP_VAULT_PROCESS_SHIM_H

// syncfs(2), a GNU extension the Swift Glibc module does not show.
int mv_syncfs(int fd);

// Marks the process non-dumpable: no core file, no ptrace attach by other same-user processes.
int mv_set_not_dumpable(void);

#include <sys/types.h>

// posix_spawn with what Swift's Glibc module does not show (POSIX_SPAWN_SETSID and
// posix_spawn_file_actions_addclosefrom_np): standard input from /dev/null; standard output to
// `out_fd` when it is 0 or more, inherited when -1, and standard output and error to /dev/null
// when -2; standard error to `err_fd` when it is 0 or more (else as out_fd says); `pass_fd` (when 0 or more) as descriptor 3; every other descriptor from 3 up closed;
// a session of its own when `new_session`. `search_path` looks `path` up in PATH. Returns the
// pid, or minus an errno value.
pid_t mv_spawn(const char *path, char *const argv[], char *const envp[], int search_path,
               int out_fd, int err_fd, int pass_fd, int new_session);

#endif
