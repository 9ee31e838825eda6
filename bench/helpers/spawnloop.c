/* spawnloop ROUNDS TIMEOUT_MS CMD... [::: CMD...]... — interleaved wall-time
 * of whole command runs (start-up overhead of an init running /bin/true).
 *
 * For each round, runs every CMD once in the order given (A B C A B C ...),
 * each with stdin/stdout/stderr on /dev/null, and prints
 *   <round> <cmd index> <wall ns from posix_spawn to reaped> <wait status>
 * A command still running after TIMEOUT_MS is SIGKILLed (by its pid), printed
 * with wall -1, and spawnloop exits 3 after the round. */
#include "common.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawnloop ROUNDS TIMEOUT_MS CMD... [::: CMD...]...\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    long tmo = atol(argv[2]);
    char **cmds[64];
    int ncmd = 0;
    cmds[ncmd++] = &argv[3];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], ":::") == 0) {
            argv[i] = NULL;
            if (ncmd == 64)
                return 2;
            cmds[ncmd++] = &argv[i + 1];
        }
    }
    sigset_t chld, empty;
    sigemptyset(&chld);
    sigemptyset(&empty);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int failed = 0;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < ncmd; k++) {
            pid_t pid;
            int64_t t0 = mono_ns();
            int e = posix_spawn(&pid, cmds[k][0], &fa, &attr, cmds[k], environ);
            if (e != 0) {
                fprintf(stderr, "spawnloop: cannot run %s: %s\n", cmds[k][0], strerror(e));
                return 4;
            }
            int st = 0;
            int64_t end = t0 + tmo * 1000000LL;
            for (;;) {
                pid_t w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                    break;
                int64_t left = end - mono_ns();
                if (left <= 0) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &st, 0);
                    printf("%d %d -1 %d\n", r, k, st);
                    failed = 1;
                    goto next;
                }
                struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
                sigtimedwait(&chld, NULL, &ts);
            }
            printf("%d %d %lld %d\n", r, k, (long long)(mono_ns() - t0), st);
        next:;
        }
    }
    fflush(stdout);
    return failed ? 3 : 0;
}
