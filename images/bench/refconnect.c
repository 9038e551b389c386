/* refconnect: the minimal reference connector the bench measures labclient
 * against. One process, epoll, non-blocking connect(): opens COUNT
 * connections round-robin over the targets, at most INFLIGHT at once, stops
 * asking a target once its kernel says EADDRNOTAVAIL (range spent), prints
 * one JSON line and holds the connections for HOLD seconds.
 * usage: refconnect IP:PORT[,IP:PORT...] COUNT INFLIGHT DEADLINE_S [HOLD_S] */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_TARGETS 64

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    struct sockaddr_in targets[MAX_TARGETS];
    int spent[MAX_TARGETS] = { 0 }, ntargets = 0, nspent = 0, rr = 0;
    struct epoll_event evs[512];
    struct rlimit rl;

    if (argc < 5) {
        fprintf(stderr, "usage: refconnect IP:PORT[,...] COUNT INFLIGHT DEADLINE_S [HOLD_S]\n");
        return 2;
    }
    for (char *tok = strtok(argv[1], ","); tok && ntargets < MAX_TARGETS; tok = strtok(NULL, ",")) {
        char *colon = strrchr(tok, ':');
        if (!colon)
            return 2;
        *colon = '\0';
        targets[ntargets].sin_family = AF_INET;
        targets[ntargets].sin_port = htons((unsigned short)atoi(colon + 1));
        if (inet_pton(AF_INET, tok, &targets[ntargets].sin_addr) != 1)
            return 2;
        ntargets++;
    }
    long count = atol(argv[2]), inflight_max = atol(argv[3]);
    int hold_s = argc > 5 ? atoi(argv[5]) : 0;
    alarm((unsigned)atoi(argv[4]) + (unsigned)hold_s); /* hard bound on the whole run */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    long asked = 0, inflight = 0, established = 0, failed = 0, addrnotavail = 0, other_errno = 0;
    double t0 = now_ms();

    for (;;) {
        while (asked < count && inflight < inflight_max && nspent < ntargets) {
            while (spent[rr % ntargets])
                rr++;
            int t = rr++ % ntargets;
            asked++;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                failed++;
                other_errno = errno;
                if (errno == EMFILE || errno == ENFILE)
                    count = asked; /* no fd left: stop asking */
                continue;
            }
            if (connect(fd, (struct sockaddr *)&targets[t], sizeof targets[t]) < 0 && errno != EINPROGRESS) {
                if (errno == EADDRNOTAVAIL) {
                    addrnotavail++;
                    spent[t] = 1;
                    nspent++;
                } else
                    other_errno = errno;
                failed++;
                close(fd);
                continue;
            }
            /* Edge-triggered: one event when the handshake ends, none while held. */
            struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.fd = fd };
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            inflight++;
        }
        if (inflight == 0)
            break;
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd, err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            inflight--;
            if (err) {
                failed++;
                other_errno = err;
                close(fd);
            } else
                established++;
        }
    }
    printf("{\"type\":\"done\",\"established\":%ld,\"failed\":%ld,\"eaddrnotavail\":%ld,"
           "\"last_errno\":%ld,\"elapsed_ms\":%.1f}\n",
           established, failed, addrnotavail, other_errno, now_ms() - t0);
    fflush(stdout);
    if (hold_s > 0)
        sleep((unsigned)hold_s);
    return 0;
}
