/*
 * labchurn: short-lived connections at a steady rate, the TIME_WAIT experiment's client.
 *
 * Each connection: connect, send "Ping", wait for "Pong" (or for the server to close first), close.
 * Whoever closes first keeps the connection's TIME_WAIT. Connects go on at --rate per second for
 * --seconds whatever fails (a spent range answers EADDRNOTAVAIL, and the churn shows it), then the
 * program reports "filled" and exits; --deadline bounds it in any case.
 *
 * With --processes P the churn runs in P processes at once (forked; each takes its share of --rate and its
 * own --inflight), which contend for the kernel's locks as a multi-threaded client does; the first one
 * reports for all of them, from counters they share, once every one has finished.
 *
 * Output: JSON lines like labclient's (start, progress, filled, summary); "established" counts
 * completed request/response rounds.
 *
 * With --request PATH each connection is HTTP/1.1 instead: it sends "GET PATH", reads the answer, and
 * sends the next GET on the same connection until it has had --requests-per-connection answers (1: one
 * request per connection), then closes; an answer saying "Connection: close" ends it sooner. The lines then
 * count the requests sent, the answers per HTTP status ("statuses") and the requests a close cut short.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "addr.h"
#include "errnames.h"
#include "http.h"

#define MAX_TARGETS 64
#define MAX_PROCESSES 1024
#define DRAIN_MS 5000

enum { FREE, CONNECTING, WAITING, DRAINING };

static struct sockaddr_storage targets[MAX_TARGETS];
static socklen_t target_len[MAX_TARGETS];
static int ntargets, rate = 100, seconds = 10, inflight_cap = 256, deadline_s = 60, progress_ms = 500, processes = 1;
static int connect_timeout_ms = 5000;
/* Wait for the server's FIN after the Pong before closing: the server then closes first, always. */
static bool wait_eof;
/* --request: the GET sent, and how many answers a connection takes before it closes */
static const char *request_path;
static char request_text[256];
static size_t request_len;
static int requests_per_connection = 1;
static struct http_reader *readers;
/* What each process did, in memory they share: `me` is this process's, `all` every one's (for the report). */
static struct counts {
    uint64_t started, completed, failed, errors[ERR_SLOTS];
    uint64_t requests, answered, cut_short, statuses[HTTP_STATUS_SLOTS];
    int inflight;
} *all, *me;
static int epfd, max_fd;
static long nofile;
static struct slot { unsigned char state; int served; long long since; } *slots;

static void usage(const char *why)
{
    printf("{\"type\":\"error\",\"message\":");
    json_string(stdout, why);
    printf("}\n");
    exit(2);
}

static void parse_targets(char *list)
{
    for (char *item = strtok(list, ","); item; item = strtok(NULL, ",")) {
        if (ntargets == MAX_TARGETS || !parse_endpoint(item, &targets[ntargets], &target_len[ntargets]))
            usage("--targets takes IPv4:PORT or [IPv6]:PORT, comma-separated");
        ntargets++;
    }
}

/* err: an errno; -1 for a request the peer's close cut short. */
static void finish(int fd, int err)
{
    if (err < 0) {
        me->cut_short++;
        me->failed++;
    } else if (err) {
        me->errors[err_slot(err)]++;
        me->failed++;
    } else {
        me->completed++;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    slots[fd].state = FREE;
    me->inflight--;
}

static void open_one(void)
{
    int i = (int)(me->started % (uint64_t)ntargets);
    const struct sockaddr_storage *t = &targets[i];
    me->started++;
    int fd = socket(t->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        me->errors[err_slot(errno)]++;
        me->failed++;
        return;
    }
    if (connect(fd, (const struct sockaddr *)t, target_len[i]) < 0 && errno != EINPROGRESS) {
        me->errors[err_slot(errno)]++;
        me->failed++;
        close(fd);
        return;
    }
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.fd = fd };
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    slots[fd].state = CONNECTING;
    slots[fd].served = 0;
    slots[fd].since = now_ms();
    if (fd > max_fd)
        max_fd = fd;
    me->inflight++;
}

/* --request: the next GET on this connection, whole in one send. */
static bool send_request(int fd)
{
    http_reader_reset(&readers[fd]);
    if (send(fd, request_text, request_len, MSG_NOSIGNAL) != (ssize_t)request_len)
        return false;
    me->requests++;
    slots[fd].since = now_ms();
    return true;
}

/* --request: an answer is in: the next request, or the close. */
static void answer_in(int fd, int status)
{
    me->statuses[http_status_slot(status)]++;
    me->answered++;
    slots[fd].served++;
    if (slots[fd].served >= requests_per_connection || readers[fd].closing)
        return finish(fd, 0);
    if (!send_request(fd))
        finish(fd, errno ? errno : EPIPE);
}

static void request_event(int fd)
{
    char buf[4096];
    uint16_t got[16];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        int status = n == 0 ? http_at_close(&readers[fd]) : -1;
        if (status >= 0) {
            me->statuses[http_status_slot(status)]++;
            me->answered++;
            return finish(fd, 0);
        }
        return finish(fd, n < 0 ? errno : -1);
    }
    int k = http_read(&readers[fd], buf, (size_t)n, got, 16);
    /* One request is out at a time, so one answer at most completes per read. */
    if (k > 0)
        answer_in(fd, got[0]);
}

static void on_event(int fd, uint32_t events)
{
    if (slots[fd].state == CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err)
            return finish(fd, err);
        if (request_path ? !send_request(fd) : send(fd, "Ping", 4, MSG_NOSIGNAL) != 4)
            return finish(fd, errno ? errno : EPIPE);
        slots[fd].state = WAITING;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
        return;
    }
    if (slots[fd].state == WAITING && request_path && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return request_event(fd);
    if (slots[fd].state == WAITING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        char buf[64];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n > 0 && wait_eof) {
            slots[fd].state = DRAINING;
            return;
        }
        /* A Pong, or the server closing first: either way the round is done and we close. */
        finish(fd, n < 0 ? errno : 0);
        return;
    }
    if (slots[fd].state == DRAINING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        char buf[64];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
            ;
        if (n < 0 && errno == EAGAIN)
            return;
        finish(fd, n < 0 ? errno : 0);
    }
}

static void print_counts(const char *type, long long t, const char *reason)
{
    struct counts sum = { 0 };
    for (int p = 0; p < processes; p++) {
        const struct counts *c = &all[p];
        sum.started += c->started, sum.completed += c->completed, sum.failed += c->failed, sum.inflight += c->inflight;
        sum.requests += c->requests, sum.answered += c->answered, sum.cut_short += c->cut_short;
        for (int e = 0; e < ERR_SLOTS; e++)
            sum.errors[e] += c->errors[e];
        for (int h = 0; h < HTTP_STATUS_SLOTS; h++)
            sum.statuses[h] += c->statuses[h];
    }
    printf("{\"type\":\"%s\",\"t_ms\":%lld,\"asked\":%llu,\"established\":%llu,\"inflight\":%d,\"failed\":%llu,",
           type, t, (unsigned long long)sum.started, (unsigned long long)sum.completed, sum.inflight, (unsigned long long)sum.failed);
    json_errmap(stdout, "errors", sum.errors);
    printf(",\"bind_errors\":{}");
    if (request_path) {
        printf(",\"requests\":%llu,\"answered\":%llu,\"cut_short\":%llu,", (unsigned long long)sum.requests,
               (unsigned long long)sum.answered, (unsigned long long)sum.cut_short);
        json_statusmap(stdout, "statuses", sum.statuses);
    }
    if (reason)
        printf(",\"reason\":\"%s\"", reason);
    printf("}\n");
    fflush(stdout);
}

/* This process's churn: its share of the rate until it is done, a signal stops it, or the deadline. The
 * first process (`reports`) prints the progress lines for all. */
static const char *churn(const sigset_t *stop, long long t0, bool reports)
{
    slots = calloc((size_t)nofile, sizeof *slots);
    readers = request_path ? calloc((size_t)nofile, sizeof *readers) : NULL;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!slots || epfd < 0 || (request_path && !readers))
        return "out of memory";
    long long churn_end = t0 + seconds * 1000LL, next_progress = t0 + progress_ms;
    long long deadline_at = t0 + deadline_s * 1000LL, next_timeout_scan = t0;
    /* When the last connection started: the drain counts from then, or from the churn's end if it kept up. */
    long long drain_from = 0;
    struct epoll_event evs[256];
    for (;;) {
        long long now = now_ms();
        struct timespec zero = { 0, 0 };
        if (sigtimedwait(stop, NULL, &zero) > 0)
            return "signal";
        if (now >= deadline_at)
            return "deadline";
        uint64_t total = (uint64_t)rate * (uint64_t)seconds;
        if (me->started < total) {
            long long elapsed = now < churn_end ? now - t0 : seconds * 1000LL;
            uint64_t due = (uint64_t)(elapsed * rate / 1000);
            while (me->started < due && me->inflight < inflight_cap && me->inflight < nofile - 64)
                open_one();
        } else {
            if (!drain_from)
                drain_from = now > churn_end ? now : churn_end;
            if (me->inflight == 0 || now >= drain_from + DRAIN_MS)
                return "done";
        }
        if (now >= next_timeout_scan) {
            for (int fd = 0; fd <= max_fd; fd++)
                if (slots[fd].state != FREE && now - slots[fd].since > connect_timeout_ms)
                    finish(fd, ETIMEDOUT);
            next_timeout_scan = now + 100;
        }
        if (reports && now >= next_progress) {
            print_counts("progress", now - t0, NULL);
            next_progress += progress_ms;
        }
        int n = epoll_wait(epfd, evs, 256, 1);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.fd, evs[i].events);
    }
}

/* The first process, its own churn over: waits for the others (stopping them on a signal), still reporting. */
static const char *wait_others(const sigset_t *stop, long long t0, const char *reason, pid_t *pids)
{
    int running = processes - 1;
    long long next_progress = now_ms() + progress_ms;
    bool stopping = strcmp(reason, "done") != 0;
    while (running > 0) {
        struct timespec tick = { 0, 10 * 1000 * 1000 };
        if (!stopping && sigtimedwait(stop, NULL, &tick) > 0)
            reason = "signal", stopping = true;
        if (stopping)
            for (int p = 1; p < processes; p++)
                if (pids[p] > 0)
                    kill(pids[p], SIGTERM);
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
            for (int p = 1; p < processes; p++)
                if (pids[p] == pid)
                    pids[p] = 0, running--;
        if (stopping && running > 0)
            nanosleep(&tick, NULL);
        if (now_ms() >= next_progress) {
            print_counts("progress", now_ms() - t0, NULL);
            next_progress += progress_ms;
        }
    }
    return reason;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "targets", required_argument, 0, 't' }, { "rate", required_argument, 0, 'r' },
        { "seconds", required_argument, 0, 's' }, { "inflight", required_argument, 0, 'i' },
        { "deadline", required_argument, 0, 'd' }, { "progress-ms", required_argument, 0, 'p' },
        { "connect-timeout-ms", required_argument, 0, 'c' }, { "wait-eof", no_argument, 0, 'e' },
        { "request", required_argument, 0, 'q' }, { "requests-per-connection", required_argument, 0, 'n' },
        { "processes", required_argument, 0, 'P' }, { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't': parse_targets(optarg); break;
        case 'r': rate = atoi(optarg); break;
        case 's': seconds = atoi(optarg); break;
        case 'i': inflight_cap = atoi(optarg); break;
        case 'd': deadline_s = atoi(optarg); break;
        case 'p': progress_ms = atoi(optarg); break;
        case 'c': connect_timeout_ms = atoi(optarg); break;
        case 'e': wait_eof = true; break;
        case 'q': request_path = optarg; break;
        case 'n': requests_per_connection = atoi(optarg); break;
        case 'P': processes = atoi(optarg); break;
        default: usage("usage: labchurn --targets IP:PORT[,...] --rate R --seconds S [--inflight K] [--processes P] [--deadline D] [--request PATH [--requests-per-connection N]]");
        }
    }
    if (!ntargets || rate < 1 || rate > 1000000 || seconds < 1 || inflight_cap < 1 || deadline_s < 1 || progress_ms < 10 ||
        processes < 1 || processes > MAX_PROCESSES)
        usage("usage: labchurn --targets IP:PORT[,...] --rate R --seconds S [--inflight K] [--processes P] [--deadline D] [--request PATH [--requests-per-connection N]]");
    if (seconds >= deadline_s)
        usage("--seconds must end before --deadline");
    if (request_path && (request_path[0] != '/' || strpbrk(request_path, " \r\n\t") ||
                         !(request_len = http_request(request_text, sizeof request_text, request_path))))
        usage("--request takes a path: /..., at most 200 characters, no spaces");
    if (requests_per_connection < 1 || requests_per_connection > 1000000 || (requests_per_connection > 1 && !request_path))
        usage("--requests-per-connection takes 1 to 1000000, with --request");
    if (request_path && wait_eof)
        usage("--wait-eof is for Ping rounds, not with --request");

    if (processes > rate)
        usage("--processes must not exceed --rate: each process takes a share of it");

    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)deadline_s + 2); /* a hard stop even if the loop below never gets to check */
    nofile = raise_nofile();
    all = mmap(NULL, sizeof *all * (size_t)processes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t *pids = calloc((size_t)processes, sizeof *pids);
    if (all == MAP_FAILED || !pids)
        usage("out of memory");
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);

    printf("{\"type\":\"start\",\"rate\":%d,\"seconds\":%d,\"targets\":%d,\"nofile\":%ld,\"processes\":%d}\n", rate, seconds,
           ntargets, nofile, processes);
    fflush(stdout);
    long long t0 = now_ms();
    int whole_rate = rate;
    for (int p = 0; p < processes; p++) {
        rate = whole_rate / processes + (p < whole_rate % processes);
        pid_t pid = p ? fork() : 0;
        if (pid < 0) {
            usage("fork failed");
        } else if (pid > 0) {
            pids[p] = pid;
        } else if (p > 0) {
            /* A forked process: its share, stopped with the first one, never printing. */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            alarm((unsigned)deadline_s + 2);
            me = &all[p];
            churn(&stop, t0, false);
            _exit(0);
        }
    }
    rate = whole_rate / processes + (whole_rate % processes > 0);
    me = &all[0];
    const char *reason = churn(&stop, t0, true);
    reason = wait_others(&stop, t0, reason, pids);
    print_counts("filled", now_ms() - t0, NULL);
    print_counts("summary", now_ms() - t0, reason);
    return 0;
}
