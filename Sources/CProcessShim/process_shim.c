#define _GNU_SOURCE
#include "process_shim.h"

#include <unistd.h>

#include <sys/prctl.h>

int mv_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int mv_syncfs(int fd) {
    return syncfs(fd);
}
