/* wdog LOGFILE KEEPALIVES INTERVAL_MS — a notify daemon whose watchdog
 * keep-alives stop.
 *
 * Under `ctlinit --ready notify --watchdog DUR`: appends "S <CLOCK_MONOTONIC
 * ns> <pid>" at start, sends READY=1 to $NOTIFY_SOCKET ("@name" = abstract,
 * or a path) and appends "R", then sends WATCHDOG=1 KEEPALIVES times, one
 * every INTERVAL_MS, appending "K" after each send (the last K is the last
 * keep-alive), then goes silent: it only waits for TERM/INT, appends "T"
 * when one arrives and exits 0. ctlinit's deadline is the last keep-alive +
 * DUR; the watchdog restart gap is the next generation's R − that deadline.
 * Stamps are taken just after sendto() returns (the datagram is then queued
 * on ctlinit's socket). */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

static void notify_open(void)
{
    const char *s = getenv("NOTIFY_SOCKET");
    if (!s || !*s) {
        fprintf(stderr, "wdog: NOTIFY_SOCKET is not set\n");
        _exit(2);
    }
    size_t n = strlen(s);
    if (n >= sizeof notify_addr.sun_path) {
        fprintf(stderr, "wdog: NOTIFY_SOCKET too long\n");
        _exit(2);
    }
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, s, n);
    if (s[0] == '@')
        notify_addr.sun_path[0] = '\0'; /* abstract namespace */
    notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (notify_fd < 0)
        die("socket");
}

static void notify(const char *msg)
{
    while (sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&notify_addr, notify_len) < 0) {
        if (errno != EINTR)
            die("sendto NOTIFY_SOCKET");
    }
}

int main(int argc, char **argv)
{
    int64_t t0 = mono_ns();
    if (argc != 4) {
        fprintf(stderr, "usage: wdog LOGFILE KEEPALIVES INTERVAL_MS\n");
        return 2;
    }
    int keep = atoi(argv[2]);
    long ms = atol(argv[3]);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open log");
    stamp(fd, 'S', t0);
    /* TERM/INT are waited for, never handled: block them before READY=1 */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        die("sigprocmask");
    notify_open();
    notify("READY=1");
    stamp(fd, 'R', mono_ns());
    struct timespec iv = {ms / 1000, (ms % 1000) * 1000000L};
    for (int i = 0; i < keep; i++) {
        /* a TERM during the keep-alives (ctlinit stopping) ends us too */
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &iv);
        if (sig > 0) {
            stamp(fd, 'T', mono_ns());
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            die("sigtimedwait");
        notify("WATCHDOG=1");
        stamp(fd, 'K', mono_ns());
    }
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0) {
            stamp(fd, 'T', mono_ns());
            return 0;
        }
        if (errno != EINTR)
            die("sigwaitinfo");
    }
}
