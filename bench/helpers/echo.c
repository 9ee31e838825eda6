/* echo FIFO — signal-echo daemon with a ready handshake.
 *
 * Opens FIFO for writing, writes 'R' once SIGUSR1/SIGTERM are blocked and it
 * is about to wait, then writes one 'U' per SIGUSR1 received (sigwaitinfo:
 * no handler, no race). Exits 0 on SIGTERM or SIGINT. */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: echo FIFO\n");
        return 2;
    }
    sigset_t set;
    static const int sigs[] = {SIGUSR1, SIGTERM, SIGINT, 0};
    int fd = block_and_ready(argv[1], sigs, &set);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            die("sigwaitinfo");
        }
        if (sig == SIGUSR1) {
            if (write_all(fd, "U", 1) < 0)
                die("write echo");
        } else {
            return 0;
        }
    }
}
