/* Shared bits of the ctlinit benchmark helpers (bench/helpers). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void die(const char *what)
{
    fprintf(stderr, "bench helper: %s: %s\n", what, strerror(errno));
    _exit(111);
}

/* write all of buf, retrying on EINTR */
static inline int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* append "TAG <monotonic ns> <pid>\n" to an O_APPEND fd in one write */
static inline void stamp(int fd, char tag, int64_t ns)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%c %lld %d\n", tag, (long long)ns, (int)getpid());
    if (write_all(fd, line, (size_t)n) < 0)
        die("write stamp");
}

/* The ready handshake of the signal-waiting helpers: block SIGS (0-ended)
 * so none is lost, open FIFO for writing, write 'R'. Returns the FIFO fd;
 * *set is the blocked set, for sigwaitinfo. */
static inline int block_and_ready(const char *fifo, const int *sigs, sigset_t *set)
{
    sigemptyset(set);
    for (; *sigs; sigs++)
        sigaddset(set, *sigs);
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
        die("sigprocmask");
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        die("open fifo");
    if (write_all(fd, "R", 1) < 0)
        die("write ready");
    return fd;
}
#endif
