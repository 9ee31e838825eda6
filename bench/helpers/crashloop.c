/* crashloop [LOGFILE|DIR [RUN_MS]] — a daemon that crashes at once.
 *
 * Appends "S <CLOCK_MONOTONIC ns> <pid>" when it starts and
 * "E <ns> <pid>" just before it exits 1 (after RUN_MS ms, default 0).
 * The restart gap of a supervisor is next S - previous E. Built static so
 * it also runs in a FROM scratch image (CLOCK_MONOTONIC is the host's).
 * Invoked as "run" (a service directory's ./run under runsv or s6-supervise,
 * which run it in that directory; s6 passes the service name as argument),
 * without LOGFILE, or with a directory, it logs to crash.log in the cwd /
 * that directory. */
#include <sys/stat.h>
#include "common.h"

int main(int argc, char **argv)
{
    int64_t t0 = mono_ns();
    if (argc > 3) {
        fprintf(stderr, "usage: crashloop [LOGFILE|DIR [RUN_MS]]\n");
        return 2;
    }
    char path[4096];
    struct stat st;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (argc < 2 || strcmp(base, "run") == 0)
        snprintf(path, sizeof path, "crash.log");
    else if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(path, sizeof path, "%s/crash.log", argv[1]);
    else
        snprintf(path, sizeof path, "%s", argv[1]);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open log");
    stamp(fd, 'S', t0);
    long ms = argc == 3 && strcmp(base, "run") != 0 ? atol(argv[2]) : 0;
    if (ms > 0) {
        struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&d, &d) < 0 && errno == EINTR) {
        }
    }
    stamp(fd, 'E', mono_ns());
    return 1;
}
