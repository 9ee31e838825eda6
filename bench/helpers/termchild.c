/* termchild FIFO — a daemon that exits 0 as soon as it gets SIGTERM (or
 * SIGINT), leaving nothing behind. Writes 'R' to FIFO once it waits. */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: termchild FIFO\n");
        return 2;
    }
    sigset_t set;
    static const int sigs[] = {SIGTERM, SIGINT, 0};
    block_and_ready(argv[1], sigs, &set);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0)
            _exit(0);
        if (errno != EINTR)
            die("sigwaitinfo");
    }
}
