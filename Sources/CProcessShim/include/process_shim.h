// prctl(2) is variadic, which Swift cannot call; this wraps the one use mcp-vault has for it.
#ifndef MCP_VAULT_PROCESS_SHIM_H
#define MCP_VAULT_PROCESS_SHIM_H

// Marks the process non-dumpable: no core file, no ptrace attach by other same-user processes.
int mv_set_not_dumpable(void);

#endif
