// libsystemd for Swift: the headers, plus small inline helpers for what Swift cannot call
// directly (variadic functions, structs Glibc hides without _GNU_SOURCE).
//
// No _GNU_SOURCE here: the system headers must be parsed exactly as Swift's Glibc module parses
// them, or a Swift file importing both modules fails with "'fd_set' ... is not present in
// definition" conflicts. What _GNU_SOURCE would expose is declared locally instead.
#ifndef KANSO_CSYSTEMD_SHIM_H
#define KANSO_CSYSTEMD_SHIM_H

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/// Same layout as glibc's `struct ucred` (socket(7), SO_PEERCRED), which glibc only declares
/// under _GNU_SOURCE.
struct kanso_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/// The credentials of the process at the other end of a connected Unix socket (SO_PEERCRED).
/// Returns 0 and fills pid/uid/gid, or -errno on failure.
static inline int kanso_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct kanso_ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
        return -errno;
    }
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

/// Asks the kernel to SIGKILL this process when its parent dies (prctl is variadic, so Swift
/// cannot call it). Worker processes use it so that none outlives its supervisor.
/// Returns 0, or -errno on failure.
static inline int kanso_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 ? 0 : -errno;
}

#endif
