/* portd PORT LOGFILE — a daemon listening on 127.0.0.1:PORT, for the port
 * handoff measurement.
 *
 * Appends "S <CLOCK_MONOTONIC ns> <pid>" when it starts, "L ..." once it
 * listens, "F ..." if bind fails (then exits 1: the previous generation
 * still held the port), and on SIGTERM/SIGINT closes the listener, appends
 * "C ..." (port released) and exits 0. Handoff = next S - previous C. */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    int64_t t0 = mono_ns();
    if (argc != 3) {
        fprintf(stderr, "usage: portd PORT LOGFILE\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        die("sigprocmask");
    int log = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log < 0)
        die("open log");
    stamp(log, 'S', t0);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
        stamp(log, 'F', mono_ns());
        return 1;
    }
    stamp(log, 'L', mono_ns());
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0) {
            close(s);
            stamp(log, 'C', mono_ns());
            return 0;
        }
        if (errno != EINTR)
            die("sigwaitinfo");
    }
}
