/* refpong: the minimal reference server the bench holds labserver against. WORKERS forked processes,
 * each with its own SO_REUSEPORT listener on every port and one level-triggered epoll set: it accepts
 * whatever its listeners have, and answers every 4-byte "Ping" (a token possibly split over reads) with
 * "Pong", as labserver does. The parent prints {"type":"ready"} once every worker listens, then every
 * 200 ms a progress line with the connections accepted and the Pongs sent, until the deadline.
 * usage: refpong PORT[,PORT...] WORKERS DEADLINE_S */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_PORTS 64
#define MAX_WORKERS 512
#define LISTENER (1ULL << 32)

struct wstats {
    long accepted, pongs;
} __attribute__((aligned(64)));

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void worker(struct wstats *me, const int *ports, int nports, int ready_fd, int nofile)
{
    static const int one = 1;
    struct epoll_event evs[256];
    unsigned char *ping_at = calloc((size_t)nofile, 1);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!ping_at || ep < 0)
        _exit(1);
    for (int i = 0; i < nports; i++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)ports[i]), .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            listen(fd, 4096) < 0)
            _exit(1);
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTENER | (uint32_t)fd };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    close(ready_fd);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)evs[i].data.u64;
            if (evs[i].data.u64 & LISTENER) {
                int c;
                while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint32_t)c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                    me->accepted++;
                }
                continue;
            }
            char buf[512];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                close(fd);
                ping_at[fd] = 0;
                continue;
            }
            int whole = 0;
            for (ssize_t k = 0; k < r; k++) {
                ping_at[fd] = buf[k] == "Ping"[ping_at[fd]] ? ping_at[fd] + 1 : (buf[k] == 'P');
                if (ping_at[fd] == 4)
                    ping_at[fd] = 0, whole++;
            }
            char out[512];
            if (whole > (int)sizeof out / 4)
                whole = (int)sizeof out / 4;
            for (int k = 0; k < whole; k++)
                memcpy(out + 4 * k, "Pong", 4);
            if (whole && send(fd, out, 4 * (size_t)whole, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
                me->pongs += whole;
        }
    }
}

int main(int argc, char **argv)
{
    int ports[MAX_PORTS], nports = 0;
    if (argc < 4) {
        fprintf(stderr, "usage: refpong PORT[,PORT...] WORKERS DEADLINE_S\n");
        return 2;
    }
    for (char *tok = strtok(argv[1], ","); tok && nports < MAX_PORTS; tok = strtok(NULL, ","))
        ports[nports++] = atoi(tok);
    int workers = atoi(argv[2]);
    if (!nports || workers < 1 || workers > MAX_WORKERS)
        return 2;
    alarm((unsigned)atoi(argv[3]));
    struct rlimit rl;
    int nofile = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        nofile = (int)rl.rlim_cur;
    }
    struct wstats *stats = mmap(NULL, sizeof *stats * (size_t)workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int ready[2];
    if (stats == MAP_FAILED || pipe(ready) < 0)
        return 1;
    long long t0 = now_ms();
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(ready[0]);
            worker(&stats[w], ports, nports, ready[1], nofile);
        }
        if (pid < 0)
            return 1;
    }
    close(ready[1]);
    char c;
    for (int got = 0; got < workers; got++)
        if (read(ready[0], &c, 1) != 1) {
            printf("{\"type\":\"error\",\"message\":\"a worker could not listen\"}\n");
            return 1;
        }
    printf("{\"type\":\"ready\",\"workers\":%d}\n", workers);
    fflush(stdout);
    for (;;) {
        usleep(200000);
        long accepted = 0, pongs = 0;
        for (int w = 0; w < workers; w++)
            accepted += __atomic_load_n(&stats[w].accepted, __ATOMIC_RELAXED), pongs += __atomic_load_n(&stats[w].pongs, __ATOMIC_RELAXED);
        printf("{\"type\":\"progress\",\"t_ms\":%lld,\"accepted\":%ld,\"pongs\":%ld}\n", now_ms() - t0, accepted, pongs);
        fflush(stdout);
    }
}
