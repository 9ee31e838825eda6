/* termchild FIFO [LOGFILE] — a daemon that exits 0 as soon as it gets
 * SIGTERM (or SIGINT), leaving nothing behind. Writes 'R' to FIFO once it
 * waits. With LOGFILE (opened before 'R'), it first appends
 * "T <CLOCK_MONOTONIC ns> <pid>" stamped the moment the signal is taken:
 * the drain figure (`--stop-delay`) compares it with when TERM was sent to
 * the init. */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: termchild FIFO [LOGFILE]\n");
        return 2;
    }
    int log = -1;
    if (argc == 3) {
        log = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (log < 0)
            die("open log");
    }
    sigset_t set;
    static const int sigs[] = {SIGTERM, SIGINT, 0};
    block_and_ready(argv[1], sigs, &set);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0) {
            if (log >= 0)
                stamp(log, 'T', mono_ns());
            _exit(0);
        }
        if (errno != EINTR)
            die("sigwaitinfo");
    }
}
