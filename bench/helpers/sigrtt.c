/* sigrtt ROUNDS WARMUP PID:FD [PID:FD...] — signal forwarding round trips.
 *
 * For each round, for each target in turn (interleaved): send SIGUSR1 to PID
 * and time until one byte ('U', from the echo daemon at the end of the chain)
 * can be read from FD (the read end of its FIFO, inherited, non-blocking).
 * Prints "<round> <target index> <ns>" for rounds after WARMUP; a byte that
 * does not come within 2 s is printed as -1 (the target is then skipped). */
#include "common.h"
#include <poll.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sigrtt ROUNDS WARMUP PID:FD...\n");
        return 2;
    }
    int rounds = atoi(argv[1]), warm = atoi(argv[2]);
    int n = argc - 3;
    pid_t pid[64];
    int fd[64], dead[64] = {0};
    if (n > 64)
        return 2;
    for (int i = 0; i < n; i++) {
        if (sscanf(argv[3 + i], "%d:%d", &pid[i], &fd[i]) != 2)
            return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int failed = 0;
    for (int r = 0; r < warm + rounds; r++) {
        for (int i = 0; i < n; i++) {
            if (dead[i])
                continue;
            char c;
            while (read(fd[i], &c, 1) == 1) {
            } /* drain anything stale */
            struct pollfd p = {fd[i], POLLIN, 0};
            int64_t t0 = mono_ns();
            if (kill(pid[i], SIGUSR1) < 0)
                die("kill");
            int got = 0;
            for (;;) {
                int k = poll(&p, 1, 2000);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    break;
                ssize_t m = read(fd[i], &c, 1);
                if (m == 1) {
                    got = c == 'U';
                    break;
                }
                if (m == 0 || (m < 0 && errno != EAGAIN && errno != EINTR))
                    break;
            }
            int64_t t1 = mono_ns();
            if (!got) {
                dead[i] = 1;
                failed = 1;
                printf("%d %d -1\n", r, i);
                continue;
            }
            if (r >= warm)
                printf("%d %d %lld\n", r, i, (long long)(t1 - t0));
            /* let the chain go idle again before the next target */
            struct timespec d = {0, 200000};
            nanosleep(&d, NULL);
        }
    }
    fflush(stdout);
    return failed ? 3 : 0;
}
