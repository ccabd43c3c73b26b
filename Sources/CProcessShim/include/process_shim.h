// System calls Swift cannot reach directly: prctl(2) is variadic, syncfs(2) needs _GNU_SOURCE.
#ifndef MCP_VAULT_PROCESS_SHIM_H
#define MCP_VAULT_PROCESS_SHIM_H

// syncfs(2), a GNU extension the Swift Glibc module does not show.
int mv_syncfs(int fd);

// Marks the process non-dumpable: no core file, no ptrace attach by other same-user processes.
int mv_set_not_dumpable(void);

#endif
