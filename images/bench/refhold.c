/* refhold: the minimal reference client the bench holds labclient's connscale hold against. PROCESSES
 * forked workers, each with one epoll set: it opens its share of COUNT connections round-robin over the
 * targets (at most INFLIGHT connecting at once), then waits for SIGUSR2 (sent to every process, as the lab
 * sends labclient's "hold now"), and for HOLD_S seconds sends each held connection a 4-byte "Ping" once
 * every INTERVAL_MS, paced evenly: the interval is cut into ticks (1000 at most, 1 ms at least) and each
 * tick pings a slice of the descriptors. The timeout rule is labclient's: a connection gets no second Ping
 * while one is out; a "Pong" later than TIMEOUT_MS, or a Ping still unanswered past it when its turn comes
 * again or when the hold ends, is a timeout and ends the connection. Round trips go to a log-linear
 * histogram (images/common/histogram.h, as labclient's). The parent prints JSON lines: "filled" when every
 * worker has filled, "held" when every worker's hold has ended; then everything stays open until the
 * deadline or a signal. As with labclient, a SIGUSR2 after a hold starts another on the same connections,
 * its figures from zero, at the interval it came with if sent by sigqueue (`pkill --queue MS`). With STOP_BEHIND
 * 1, labclient's --ping-stop-behind: a worker that sees a Pong later than a quarter of the timeout has fallen
 * behind and sends no more Pings in that hold.
 * usage: refhold IP:PORT[,IP:PORT...] COUNT PROCESSES INFLIGHT INTERVAL_MS TIMEOUT_MS HOLD_S DEADLINE_S [STOP_BEHIND] */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "histogram.h"

#define MAX_TARGETS 64
#define MAX_PROCESSES 512

struct wstats {
    long established, open, failed, sent, pongs, timeouts, unanswered, hold_ms, behind;
    int filled, held; /* held: holds ended */
    struct histogram rtt;
} __attribute__((aligned(64)));

static struct wstats *stats, *me;
static struct sockaddr_in targets[MAX_TARGETS];
static int ntargets;
static long interval_us, timeout_us;
static int hold_s, stop_behind;
/* labclient's: a Pong later than this share of the timeout says the worker fell behind. */
#define BEHIND_DIVISOR 4
static volatile sig_atomic_t hold_go, hold_interval_ms;

/* Per descriptor: 1 connecting, 2 held; when the outstanding Ping left (0: none out); how much of "Pong" read. */
static unsigned char *state, *pong_at;
static long long *sent_us;
static int nofile;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void on_usr2(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    if (info->si_code == SI_QUEUE && info->si_value.sival_int > 0)
        hold_interval_ms = info->si_value.sival_int;
    hold_go = 1;
}

static void drop(int fd)
{
    if (state[fd] == 2)
        me->open--;
    close(fd);
    state[fd] = 0;
    sent_us[fd] = 0;
}

static void timeout_of(int fd, long long waited)
{
    me->timeouts++;
    hist_add(&me->rtt, (uint64_t)waited);
    drop(fd);
}

/* Every "Pong" in buf, a token possibly split over reads; returns how many were whole. */
static int pongs_in(int fd, const char *buf, ssize_t n)
{
    static const char token[] = "Pong";
    int whole = 0;
    for (ssize_t i = 0; i < n; i++) {
        pong_at[fd] = buf[i] == token[pong_at[fd]] ? pong_at[fd] + 1 : (buf[i] == 'P');
        if (pong_at[fd] == 4) {
            pong_at[fd] = 0;
            whole++;
        }
    }
    return whole;
}

static void readable(int fd, int holding)
{
    char buf[512];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        drop(fd); /* the server ended it: not a timeout (labclient counts it as a Ping lost) */
        return;
    }
    if (!pongs_in(fd, buf, r) || !sent_us[fd])
        return;
    if (!holding) {
        sent_us[fd] = 0; /* an answer after the hold ended: in no figure */
        return;
    }
    long long rtt = now_us() - sent_us[fd];
    sent_us[fd] = 0;
    if (stop_behind && rtt > timeout_us / BEHIND_DIVISOR)
        me->behind = 1;
    if (rtt > timeout_us) {
        timeout_of(fd, rtt);
        return;
    }
    hist_add(&me->rtt, (uint64_t)rtt);
    me->pongs++;
}

/* One tick's slice of the descriptors [lo, hi): a Ping each, or a timeout, or nothing while one is out. */
static void ping_slice(int lo, int hi, long long now)
{
    for (int fd = lo; fd < hi; fd++) {
        if (state[fd] != 2)
            continue;
        if (sent_us[fd]) {
            if (now - sent_us[fd] > timeout_us) {
                me->unanswered++;
                timeout_of(fd, now - sent_us[fd]);
            }
            continue;
        }
        if (send(fd, "Ping", 4, MSG_NOSIGNAL | MSG_DONTWAIT) != 4) {
            drop(fd);
            continue;
        }
        sent_us[fd] = now;
        me->sent++;
    }
}

static void hold(int ep, int span, const sigset_t *waiting);

static void worker(int idx, long share, long inflight_max)
{
    struct epoll_event evs[512];
    sigset_t block, waiting;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    struct sigaction go = { .sa_sigaction = on_usr2, .sa_flags = SA_SIGINFO };
    sigemptyset(&go.sa_mask);
    sigaction(SIGUSR2, &go, NULL);
    sigprocmask(SIG_BLOCK, &block, &waiting);
    sigdelset(&waiting, SIGUSR2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    me = &stats[idx];
    state = calloc((size_t)nofile, 1);
    pong_at = calloc((size_t)nofile, 1);
    sent_us = calloc((size_t)nofile, sizeof *sent_us);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!state || !pong_at || !sent_us || ep < 0)
        _exit(1);

    long asked = 0, inflight = 0;
    int rr = idx, maxfd = 0;
    while (asked < share || inflight) {
        while (asked < share && inflight < inflight_max) {
            asked++;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            struct sockaddr_in *t = &targets[rr++ % ntargets];
            if (fd < 0 || (connect(fd, (struct sockaddr *)t, sizeof *t) < 0 && errno != EINPROGRESS)) {
                me->failed++;
                if (fd >= 0)
                    close(fd);
                else
                    share = asked; /* no descriptor left */
                continue;
            }
            struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            state[fd] = 1;
            inflight++;
            if (fd > maxfd)
                maxfd = fd;
        }
        int n = epoll_wait(ep, evs, 512, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd, err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            inflight--;
            if (err) {
                me->failed++;
                drop(fd);
                continue;
            }
            struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
            epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
            state[fd] = 2;
            me->established++;
            me->open++;
        }
    }
    __atomic_store_n(&me->filled, 1, __ATOMIC_RELEASE);
    srand48((long)getpid() ^ (long)now_us());

    for (;;) {
        /* Until "hold now", only what the server might close, and answers to the last hold's Pings. */
        while (!hold_go) {
            int n = epoll_pwait(ep, evs, 512, -1, &waiting);
            for (int i = 0; i < n; i++)
                readable(evs[i].data.fd, 0);
        }
        hold_go = 0;
        if (hold_interval_ms > 0)
            interval_us = (long)hold_interval_ms * 1000;
        hold(ep, maxfd + 1, &waiting);
        hold_go = 0; /* a second "hold now" that came during it */
        __atomic_add_fetch(&me->held, 1, __ATOMIC_RELEASE);
    }
}

/* One hold over the descriptors [0, span), its figures from zero. A Ping the last hold left out past its
 * timeout ended its connection; one still within it is forgotten. */
static void hold(int ep, int span, const sigset_t *waiting)
{
    struct epoll_event evs[512];
    long long begin = now_us();
    for (int fd = 0; fd < span; fd++)
        if (state[fd] == 2 && sent_us[fd]) {
            if (begin - sent_us[fd] > timeout_us)
                drop(fd);
            else
                sent_us[fd] = 0;
        }
    me->sent = me->pongs = me->timeouts = me->unanswered = me->hold_ms = me->behind = 0;
    memset(&me->rtt, 0, sizeof me->rtt);

    long long interval_ms = interval_us / 1000;
    int ticks = interval_ms < 1000 ? (int)interval_ms : 1000;
    if (ticks < 1)
        ticks = 1;
    long long tick_us = interval_us / ticks;
    long long start = begin + (long long)(drand48() * (double)tick_us); /* each worker at its own phase */
    long long end = start + hold_s * 1000000LL;
    long long next = start;
    int tick = 0;
    for (;;) {
        long long now = now_us();
        while (next <= now && next < end && !me->behind) {
            ping_slice((int)((long long)span * tick / ticks), (int)((long long)span * (tick + 1) / ticks), now);
            tick = (tick + 1) % ticks;
            next += tick_us;
        }
        if (now >= end)
            break;
        long long wake = me->behind ? end : next; /* fallen behind: only the Pongs still to come */
        int wait_ms = (int)((wake - now + 999) / 1000);
        int n = epoll_pwait(ep, evs, 512, wait_ms, waiting);
        for (int i = 0; i < n; i++)
            readable(evs[i].data.fd, 1);
    }
    long long over = now_us();
    for (int fd = 0; fd < span; fd++)
        if (state[fd] == 2 && sent_us[fd] && over - sent_us[fd] > timeout_us) {
            me->unanswered++;
            timeout_of(fd, over - sent_us[fd]);
        }
    me->hold_ms = (over - start) / 1000;
}

/* Whether every worker's flag (or count) has reached at_least. */
static int all(int processes, size_t flag, int at_least)
{
    for (int w = 0; w < processes; w++)
        if (__atomic_load_n((int *)((char *)&stats[w] + flag), __ATOMIC_ACQUIRE) < at_least)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: refhold IP:PORT[,...] COUNT PROCESSES INFLIGHT INTERVAL_MS TIMEOUT_MS HOLD_S DEADLINE_S [STOP_BEHIND]\n");
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
    long count = atol(argv[2]), inflight = atol(argv[4]);
    int processes = atoi(argv[3]);
    interval_us = atol(argv[5]) * 1000;
    timeout_us = atol(argv[6]) * 1000;
    hold_s = atoi(argv[7]);
    stop_behind = argc > 9 && atoi(argv[9]) == 1;
    if (!ntargets || count < 1 || processes < 1 || processes > MAX_PROCESSES || inflight < 1 || interval_us < 1000 || timeout_us < 1000 ||
        hold_s < 1)
        return 2;
    alarm((unsigned)atoi(argv[8])); /* hard bound on the whole run; the workers follow their parent */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        nofile = (int)rl.rlim_cur;
    }
    stats = mmap(NULL, sizeof *stats * (size_t)processes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (stats == MAP_FAILED)
        return 1;
    signal(SIGUSR2, SIG_IGN); /* the workers take it */
    long long t0 = now_us();
    for (int w = 0; w < processes; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGUSR2, SIG_DFL);
            worker(w, count / processes + (w < count % processes), inflight);
        }
        if (pid < 0)
            return 1;
    }
    int filled = 0, holds = 0;
    for (;;) {
        usleep(20000);
        if (waitpid(-1, NULL, WNOHANG) > 0)
            return 1; /* a worker died */
        if (!filled && all(processes, offsetof(struct wstats, filled), 1)) {
            long est = 0, failed = 0;
            for (int w = 0; w < processes; w++)
                est += stats[w].established, failed += stats[w].failed;
            printf("{\"type\":\"filled\",\"established\":%ld,\"failed\":%ld,\"t_ms\":%lld}\n", est, failed, (now_us() - t0) / 1000);
            fflush(stdout);
            filled = 1;
        }
        if (filled && all(processes, offsetof(struct wstats, held), holds + 1)) {
            struct histogram h;
            memset(&h, 0, sizeof h);
            long est = 0, open = 0, sent = 0, pongs = 0, timeouts = 0, unanswered = 0, hold_ms = 0, behind = 0;
            for (int w = 0; w < processes; w++) {
                struct wstats *s = &stats[w];
                est += s->established, open += s->open, behind += s->behind, sent += s->sent, pongs += s->pongs, timeouts += s->timeouts, unanswered += s->unanswered;
                hold_ms = s->hold_ms > hold_ms ? s->hold_ms : hold_ms;
                hist_merge(&h, &s->rtt);
            }
            printf("{\"type\":\"held\",\"established\":%ld,\"open\":%ld,\"hold_ping\":{\"sent\":%ld,\"pongs\":%ld,\"timeouts\":%ld,"
                   "\"unanswered\":%ld,\"hold_ms\":%ld,\"behind\":%ld,\"rtt_us\":{\"count\":%llu,\"p50\":%llu,\"p99\":%llu,\"max\":%llu}}}\n",
                   est, open, sent, pongs, timeouts, unanswered, hold_ms, behind, (unsigned long long)hist_total(&h),
                   (unsigned long long)hist_quantile(&h, 0.50), (unsigned long long)hist_quantile(&h, 0.99),
                   (unsigned long long)h.max_us);
            fflush(stdout);
            holds++; /* the connections stay open for another hold, until the deadline or a signal */
        }
    }
}
