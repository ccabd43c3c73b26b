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

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>

pid_t mv_spawn(const char *path, char *const argv[], char *const envp[], int search_path,
               int out_fd, int err_fd, int pass_fd, int new_session) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return -result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -result;
    }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    } else if (out_fd == -2) {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    int first_closed = 3;
    if (pass_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, pass_fd, 3);
        first_closed = 4;
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, first_closed);
    if (new_session) posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    result = search_path ? posix_spawnp(&pid, path, &actions, &attributes, argv, envp)
                         : posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return result == 0 ? pid : -result;
}
