/* storm N WAVE TIMEOUT_S RESULTFILE — orphan storm, run as the daemon of an
 * init that is PID 1 of its own PID namespace.
 *
 * Per wave: a middle process forks WAVE grandchildren that exit at once; it
 * does not reap them, and once /proc shows all of them as zombies it exits,
 * so WAVE zombies are orphaned — reparented to PID 1 — at once, and the init
 * has to reap them. (Zombies rather than live orphans: with live orphans the
 * init's wait4 also walks every still-running child, and how many there are
 * at each wake-up is a scheduling race that swamps the init's own cost.)
 * The storm then waits (bounded by TIMEOUT_S overall) until /proc shows no
 * process but PID 1 and itself, and after the last wave writes one line to
 * RESULTFILE:
 *   orphans=<forked> ticks=<init utime+stime delta, clock ticks>
 *   sched_ns=<init on-CPU ns delta from /proc/1/schedstat, -1 if absent>
 *   drain_ms=<sum of orphaned-to-empty times> zombies=<Z left> others=<live left>
 *   hz=<clock ticks per second>
 * Waves keep the number of simultaneously live PIDs bounded (the host's
 * pid_max is shared with other users of the machine).
 * With a 5th argument "live", the grandchildren are orphaned alive (blocked on
 * a pipe) and then released to exit at once instead — the racy variant, kept
 * for investigation. */
#include "common.h"
#include <dirent.h>
#include <sys/wait.h>

static int64_t read_ticks(void)
{
    char buf[1024];
    int fd = open("/proc/1/stat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* after ") ": field 3 state ... field 14 utime, 15 stime */
    long long ut = 0, st = 0;
    int field = 2;
    for (char *q = p + 1; *q; q++) {
        if (*q == ' ') {
            field++;
            if (field == 14)
                ut = atoll(q + 1);
            else if (field == 15) {
                st = atoll(q + 1);
                break;
            }
        }
    }
    return ut + st;
}

static int64_t read_sched(void)
{
    char buf[256];
    int fd = open("/proc/1/schedstat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return atoll(buf);
}

/* count processes other than 1 and me: zombies and live ones */
static void scan(int *zombies, int *others)
{
    *zombies = *others = 0;
    DIR *d = opendir("/proc");
    if (!d)
        die("opendir /proc");
    pid_t me = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int pid = atoi(e->d_name);
        if (pid == 1 || pid == me)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue; /* gone meanwhile */
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'Z')
            (*zombies)++;
        else
            (*others)++;
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: storm N WAVE TIMEOUT_S RESULTFILE [live]\n");
        return 2;
    }
    int live = argc == 6 && strcmp(argv[5], "live") == 0;
    long n = atol(argv[1]), wave = atol(argv[2]);
    int64_t deadline = mono_ns() + atoll(argv[3]) * 1000000000LL;
    if (n < 1 || wave < 1)
        return 2;
    int64_t ticks0 = read_ticks(), sched0 = read_sched();
    long forked = 0;
    int64_t drain_ns = 0;
    int zombies = 0, others = 0;
    while (forked < n) {
        long w = n - forked < wave ? n - forked : wave;
        int gate[2], res[2];
        if (pipe(gate) < 0 || pipe(res) < 0)
            die("pipe");
        pid_t mid = fork();
        if (mid < 0)
            die("fork middle");
        if (mid == 0) {
            close(res[0]);
            close(gate[1]);
            long k = 0;
            pid_t *kids = malloc(sizeof(pid_t) * (size_t)w);
            if (!kids)
                _exit(1);
            for (; k < w; k++) {
                pid_t c = fork();
                if (c < 0)
                    break;
                if (c == 0) {
                    if (live) {
                        char ch;
                        close(res[1]);
                        while (read(gate[0], &ch, 1) < 0 && errno == EINTR) {
                        }
                    }
                    _exit(0);
                }
                kids[k] = c;
            }
            /* wait (bounded) until every child is a zombie, then exit: they
             * are all orphaned in this one exit */
            for (long i = live ? k : 0; i < k;) {
                char path[64], buf[256];
                snprintf(path, sizeof path, "/proc/%d/stat", (int)kids[i]);
                int fd = open(path, O_RDONLY);
                ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
                if (fd >= 0)
                    close(fd);
                char *p = NULL;
                if (n > 0) {
                    buf[n] = 0;
                    p = strrchr(buf, ')');
                }
                if (p && p[1] == ' ' && p[2] != 'Z' && mono_ns() < deadline) {
                    struct timespec d = {0, 1000000};
                    nanosleep(&d, NULL);
                    continue;
                }
                i++;
            }
            if (write_all(res[1], (char *)&k, sizeof k) < 0)
                _exit(1);
            if (live)
                _exit(0); /* orphans them alive; the storm's go releases them */
            /* wait for the go: the storm starts the clock first */
            char ch;
            while (read(gate[0], &ch, 1) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        close(gate[0]);
        close(res[1]);
        long k = 0;
        if (read(res[0], &k, sizeof k) != (ssize_t)sizeof k)
            k = 0;
        close(res[0]);
        /* all k grandchildren are zombies of the middle process: let it exit,
         * which orphans them to PID 1 at once */
        int st;
        int64_t t = mono_ns();
        if (live) {
            /* the middle process exits at once: they are orphans now, alive;
             * release them to exit at once */
            while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
            }
            t = mono_ns();
            close(gate[1]);
        } else {
            close(gate[1]);
            while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
            }
        }
        forked += k;
        for (;;) {
            scan(&zombies, &others);
            if (zombies == 0 && others == 0)
                break;
            if (mono_ns() > deadline)
                break;
            struct timespec d = {0, 2000000};
            nanosleep(&d, NULL);
        }
        drain_ns += mono_ns() - t;
        if (k < w) {
            fprintf(stderr, "storm: fork failed after %ld of %ld in a wave\n", k, w);
            break;
        }
        if (zombies || others)
            break;
    }
    int64_t ticks1 = read_ticks(), sched1 = read_sched();
    FILE *f = fopen(argv[4], "w");
    if (!f)
        die("open result");
    fprintf(f, "orphans=%ld ticks=%lld sched_ns=%lld drain_ms=%.3f zombies=%d others=%d hz=%ld\n",
            forked, (long long)(ticks1 - ticks0),
            (long long)(sched0 < 0 || sched1 < 0 ? -1 : sched1 - sched0),
            drain_ns / 1e6, zombies, others, sysconf(_SC_CLK_TCK));
    fclose(f);
    return zombies || others ? 1 : 0;
}
