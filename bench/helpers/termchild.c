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
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        die("sigprocmask");
    int fd = open(argv[1], O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        die("open fifo");
    if (write_all(fd, "R", 1) < 0)
        die("write ready");
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0)
            _exit(0);
        if (errno != EINTR)
            die("sigwaitinfo");
    }
}
