/* labserver: listens on several TCP ports with W SO_REUSEPORT workers, accepts
 * and holds connections, answers every "Ping" with "Pong", and reports JSON
 * lines on stdout (ready, progress, summary).
 *
 * With --http it is an HTTP/1.1 backend: each request gets an empty 200 with
 * Content-Length and the connection stays open for the next (it never closes
 * first); with --hold-ms H as well, each answer waits H ms after its request
 * was read (a long-poll: past the deadline, never). "requests" counts the
 * requests read and "held" those still waiting for their answer. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "errnames.h"
#include "workers.h"

#define HTTP_REPLY "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

#define MAX_PORTS 64
#define MAX_WORKERS 256
#define LISTENER_TAG (1ULL << 32)

struct wstats {
    uint64_t accepted, open, pongs, requests, held;
    uint64_t fds_at_start; /* descriptors the worker held before its first accept (stdio, epoll, listeners) */
    uint64_t errors[ERR_SLOTS];
} __attribute__((aligned(64)));

/* What a worker tells the parent through the ready pipe. */
struct ready_msg {
    int32_t op; /* OP_OK when all listeners are up */
    int32_t err;
    int32_t port;
};

enum { OP_OK, OP_SOCKET, OP_SETSOCKOPT, OP_BIND, OP_LISTEN };
static const char *op_names[] = { "ok", "socket", "setsockopt", "bind", "listen" };

static struct {
    int ports[MAX_PORTS];
    int nports;
    int backlog;
    int workers;
    int accept_delay_ms;
    bool accept_paused;
    bool close_after_pong;
    bool http;
    /* Accept and hold, never read: what clients send stays in the receive queues. */
    bool no_read;
    /* After accept() fails with EMFILE or ENFILE, stop accepting this long (0: retry at once, and spin). */
    int emfile_backoff_ms;
    /* --http: each answer waits this long after its request was read (0: at once). */
    int hold_ms;
    int deadline_s;
    int progress_ms;
    /* Each listener an IPv6 socket on [::] with IPV6_V6ONLY off: one socket, one accept queue, per port for
     * both families (IPv4 clients arrive as ::ffff:a.b.c.d). */
    bool dual_stack;
} opt = { .backlog = 4096, .workers = 1, .emfile_backoff_ms = 100, .deadline_s = 3600, .progress_ms = 1000 };

static struct wstats *stats;
static pid_t pids[MAX_WORKERS];
static long long t0;
static long nofile;

static void die_usage(const char *msg)
{
    printf("{\"type\":\"error\",\"op\":\"args\",\"message\":");
    json_string(stdout, msg);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "usage: labserver --ports P1,P2 [--backlog N] [--workers W] "
                    "[--accept-delay-ms D] [--accept-paused] [--close-after-pong] [--http] [--no-read] "
                    "[--emfile-backoff-ms B] [--dual-stack] [--hold-ms H] [--deadline S] "
                    "[--progress-ms M]\n");
    exit(2);
}

static int parse_int(const char *s, long min, long max, const char *what)
{
    char *end, msg[128];
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        snprintf(msg, sizeof msg, "bad value for %s: '%s'", what, s);
        die_usage(msg);
    }
    return (int)v;
}

static void parse_ports(char *s)
{
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (opt.nports == MAX_PORTS)
            die_usage("too many ports");
        opt.ports[opt.nports++] = parse_int(tok, 1, 65535, "--ports");
    }
    if (!opt.nports)
        die_usage("--ports is empty");
}

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "ports", required_argument, 0, 'p' },
        { "backlog", required_argument, 0, 'b' },
        { "workers", required_argument, 0, 'w' },
        { "accept-delay-ms", required_argument, 0, 'd' },
        { "accept-paused", no_argument, 0, 'P' },
        { "close-after-pong", no_argument, 0, 'C' },
        { "http", no_argument, 0, 'H' },
        { "no-read", no_argument, 0, 'N' },
        { "emfile-backoff-ms", required_argument, 0, 'E' },
        { "deadline", required_argument, 0, 'D' },
        { "progress-ms", required_argument, 0, 'g' },
        { "dual-stack", no_argument, 0, '6' },
        { "hold-ms", required_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': parse_ports(optarg); break;
        case 'b': opt.backlog = parse_int(optarg, 1, 1 << 30, "--backlog"); break;
        case 'w': opt.workers = parse_int(optarg, 1, MAX_WORKERS, "--workers"); break;
        case 'd': opt.accept_delay_ms = parse_int(optarg, 0, 3600000, "--accept-delay-ms"); break;
        case 'P': opt.accept_paused = true; break;
        case 'C': opt.close_after_pong = true; break;
        case 'H': opt.http = true; break;
        case 'N': opt.no_read = true; break;
        case 'E': opt.emfile_backoff_ms = parse_int(optarg, 0, 60000, "--emfile-backoff-ms"); break;
        case 'D': opt.deadline_s = parse_int(optarg, 1, 100000000, "--deadline"); break;
        case 'g': opt.progress_ms = parse_int(optarg, 10, 3600000, "--progress-ms"); break;
        case '6': opt.dual_stack = true; break;
        case 'h': opt.hold_ms = parse_int(optarg, 0, 100000000, "--hold-ms"); break;
        default: die_usage("unknown option or missing argument");
        }
    }
    if (optind < argc)
        die_usage("unexpected positional argument");
    if (!opt.nports)
        die_usage("--ports is required");
    if (opt.hold_ms && !opt.http)
        die_usage("--hold-ms holds HTTP answers: it needs --http");
}

/* ---------------------------------------------------------------- worker */

static struct wstats *me;
static unsigned char *ping_state; /* per fd: partial "Ping" match */
/* --hold-ms: answers due, oldest first (one hold for all, so the order they were asked is the order they are
 * due); a connection's generation tells an entry whose connection has closed since. */
struct held_answer {
    int fd, count;
    uint32_t gen;
    long long due;
};
static struct held_answer *held_ring;
static size_t held_cap, held_head, held_len;
static uint32_t *conn_gen, *conn_held;
static int epfd;
static int lfds[MAX_PORTS];
static bool armed;

static void count_err(int e)
{
    STAT_ADD(me->errors[err_slot(e)], 1);
}

static void set_armed(bool on)
{
    struct epoll_event ev = { 0 };

    for (int i = 0; i < opt.nports; i++) {
        ev.events = on ? EPOLLIN : 0;
        ev.data.u64 = LISTENER_TAG | (uint32_t)lfds[i];
        epoll_ctl(epfd, EPOLL_CTL_MOD, lfds[i], &ev);
    }
    armed = on;
}

static void close_conn(int fd)
{
    close(fd);
    ping_state[fd] = 0;
    if (conn_gen) {
        conn_gen[fd]++;
        STAT_ADD(me->held, -(uint64_t)conn_held[fd]);
        conn_held[fd] = 0;
    }
    STAT_ADD(me->open, -1);
}

/* Accepts pending connections; returns the time (ms) until which accepting
 * must stay paused, or 0. */
static long long accept_some(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            count_err(errno);
            /* The handshake is done and the connection stays queued; with no descriptor to give it, retrying
             * at once only spins (a level-triggered listener stays readable): pause, then try again. */
            if ((errno == EMFILE || errno == ENFILE) && opt.emfile_backoff_ms)
                return now_ms() + opt.emfile_backoff_ms;
            return 0;
        }
        struct epoll_event ev = { .events = opt.no_read ? 0 : EPOLLIN | EPOLLRDHUP, .data.u64 = (uint32_t)fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            count_err(errno);
            close(fd);
            continue;
        }
        STAT_ADD(me->accepted, 1);
        STAT_ADD(me->open, 1);
        if (opt.accept_delay_ms)
            return now_ms() + opt.accept_delay_ms;
    }
}

static void answer(int fd, int n);

static void conn_readable(int fd)
{
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof buf);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        if (r < 0)
            count_err(errno);
        close_conn(fd);
        return;
    }
    /* Ping answers Pong; with --http, each request (headers up to a blank line) gets an empty 200,
     * and the connection stays open (HTTP/1.1 keep-alive). */
    const char *token = opt.http ? "\r\n\r\n" : "Ping";
    int n = count_token(&ping_state[fd], token, buf, (size_t)r);
    if (!n)
        return;
    if (opt.http)
        STAT_ADD(me->requests, (uint64_t)n);
    /* Held for later; a full ring (more requests waiting than descriptors) answers at once instead. */
    if (opt.hold_ms && held_len < held_cap) {
        held_ring[(held_head + held_len++) % held_cap] =
            (struct held_answer){ .fd = fd, .count = n, .gen = conn_gen[fd], .due = now_ms() + opt.hold_ms };
        STAT_ADD(me->held, (uint64_t)n);
        conn_held[fd] += (uint32_t)n;
        return;
    }
    answer(fd, n);
}

/* The answers to n requests (or n Pongs) at once. */
static void answer(int fd, int n)
{
    char out[4096];
    const char *reply = opt.http ? HTTP_REPLY : "Pong";
    size_t reply_len = strlen(reply);
    if (n > (int)(sizeof out / reply_len))
        n = (int)(sizeof out / reply_len);
    for (int i = 0; i < n; i++)
        memcpy(out + reply_len * (size_t)i, reply, reply_len);
    /* Best effort: a reply that does not fit the socket buffer is dropped. */
    ssize_t w = send(fd, out, reply_len * (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
        STAT_ADD(me->pongs, (uint64_t)w / reply_len);
        /* The server closes first: the connection's TIME_WAIT is then the server's. */
        if (opt.close_after_pong)
            close_conn(fd);
    } else if (w < 0 && errno != EAGAIN) {
        count_err(errno);
        close_conn(fd);
    }
}

/* --hold-ms: answers whose hold has ended; returns ms until the next is due, or -1 if none waits. */
static int answer_due(void)
{
    long long now = now_ms();
    while (held_len) {
        struct held_answer *h = &held_ring[held_head];
        if (h->due > now)
            return (int)(h->due - now);
        if (conn_gen[h->fd] == h->gen) {
            STAT_ADD(me->held, -(uint64_t)h->count);
            conn_held[h->fd] -= (uint32_t)h->count;
            answer(h->fd, h->count);
        }
        held_head = (held_head + 1) % held_cap;
        held_len--;
    }
    return -1;
}

static void report_ready(int pipefd, int op, int err, int port)
{
    struct ready_msg m = { op, err, port };

    if (write(pipefd, &m, sizeof m) != sizeof m)
        _exit(1);
    if (op != OP_OK)
        _exit(1);
}

static void worker(int idx, int pipefd, pid_t parent)
{
    static const int one = 1;
    struct epoll_event evs[256];
    long long resume_at = 0;

    me = &stats[idx];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    raise_nofile();
    /* Safety net in case the parent cannot enforce the deadline itself. */
    alarm((unsigned)opt.deadline_s + 2);

    ping_state = calloc((size_t)nofile, 1);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!ping_state || epfd < 0)
        report_ready(pipefd, OP_SOCKET, errno, 0);
    if (opt.hold_ms) {
        held_cap = (size_t)nofile + 1024;
        held_ring = calloc(held_cap, sizeof *held_ring);
        conn_gen = calloc((size_t)nofile, sizeof *conn_gen);
        conn_held = calloc((size_t)nofile, sizeof *conn_held);
        if (!held_ring || !conn_gen || !conn_held)
            report_ready(pipefd, OP_SOCKET, ENOMEM, 0);
    }

    for (int i = 0; i < opt.nports; i++) {
        static const int zero = 0;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.ports[i]),
                                  .sin_addr.s_addr = htonl(INADDR_ANY) };
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(opt.ports[i]), .sin6_addr = IN6ADDR_ANY_INIT };
        int fd = socket(opt.dual_stack ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            report_ready(pipefd, OP_SOCKET, errno, opt.ports[i]);
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
            (opt.dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0))
            report_ready(pipefd, OP_SETSOCKOPT, errno, opt.ports[i]);
        if (opt.dual_stack ? bind(fd, (struct sockaddr *)&sa6, sizeof sa6) < 0 : bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            report_ready(pipefd, OP_BIND, errno, opt.ports[i]);
        if (listen(fd, opt.backlog) < 0)
            report_ready(pipefd, OP_LISTEN, errno, opt.ports[i]);
        struct epoll_event ev = { .events = 0, .data.u64 = LISTENER_TAG | (uint32_t)fd };
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        lfds[i] = fd;
    }
    STAT_ADD(me->fds_at_start, (uint64_t)(open_descriptors() - 1)); /* less the ready pipe, closed next */
    report_ready(pipefd, OP_OK, 0, 0);
    close(pipefd);

    if (!opt.accept_paused)
        set_armed(true);

    for (;;) {
        int timeout = -1;

        if (!opt.accept_paused && !armed) {
            long long left = resume_at - now_ms();
            if (left <= 0)
                set_armed(true);
            else
                timeout = (int)left;
        }
        int due = opt.hold_ms ? answer_due() : -1;
        if (due >= 0 && (timeout < 0 || due < timeout))
            timeout = due;
        int n = epoll_wait(epfd, evs, 256, timeout);
        if (n < 0) {
            if (errno != EINTR)
                count_err(errno);
            continue;
        }
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            int fd = (int)(uint32_t)d;

            if (d & LISTENER_TAG) {
                if (!armed)
                    continue;
                resume_at = accept_some(fd);
                if (resume_at)
                    set_armed(false);
            } else {
                conn_readable(fd);
            }
        }
    }
}

/* ---------------------------------------------------------------- parent */

static void print_counts(const char *type, const char *reason)
{
    uint64_t accepted = 0, open = 0, pongs = 0, requests = 0, held = 0, fds_at_start = 0, errors[ERR_SLOTS] = { 0 };

    for (int w = 0; w < opt.workers; w++) {
        if (STAT_GET(stats[w].fds_at_start) > fds_at_start)
            fds_at_start = STAT_GET(stats[w].fds_at_start);
        accepted += STAT_GET(stats[w].accepted);
        open += STAT_GET(stats[w].open);
        pongs += STAT_GET(stats[w].pongs);
        requests += STAT_GET(stats[w].requests);
        held += STAT_GET(stats[w].held);
        for (int e = 0; e < ERR_SLOTS; e++)
            errors[e] += STAT_GET(stats[w].errors[e]);
    }
    printf("{\"type\":\"%s\",\"t_ms\":%lld,\"accepted\":%llu,\"open\":%llu,\"pongs\":%llu,"
           "\"fds_at_start\":%llu,",
           type, now_ms() - t0, (unsigned long long)accepted, (unsigned long long)open,
           (unsigned long long)pongs, (unsigned long long)fds_at_start);
    if (opt.http)
        printf("\"requests\":%llu,\"held\":%llu,", (unsigned long long)requests, (unsigned long long)held);
    json_errmap(stdout, "errors", errors);
    if (reason)
        printf(",\"reason\":\"%s\"", reason);
    printf("}\n");
    fflush(stdout);
}

static void kill_workers(void)
{
    /* Workers keep no state worth flushing: the kernel closes their sockets. */
    for (int w = 0; w < opt.workers; w++)
        if (pids[w] > 0)
            kill(pids[w], SIGKILL);
    for (int w = 0; w < opt.workers; w++)
        if (pids[w] > 0)
            waitpid(pids[w], NULL, 0);
}

static void wait_ready(int pipefd)
{
    struct ready_msg m;
    char msg[256];

    for (int got = 0; got < opt.workers; got++) {
        ssize_t r = read(pipefd, &m, sizeof m);
        if (r != sizeof m) {
            printf("{\"type\":\"error\",\"op\":\"worker\",\"message\":\"a worker died before listening\"}\n");
            fflush(stdout);
            kill_workers();
            exit(1);
        }
        if (m.op != OP_OK) {
            snprintf(msg, sizeof msg, "%s 0.0.0.0:%d: %s", op_names[m.op], m.port, strerror(m.err));
            printf("{\"type\":\"error\",\"op\":\"%s\",\"errno\":\"%s\",\"port\":%d,\"message\":",
                   op_names[m.op], errname(m.err), m.port);
            json_string(stdout, msg);
            printf("}\n");
            fflush(stdout);
            kill_workers();
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    sigset_t set;
    int pipefd[2];

    t0 = now_ms();
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    nofile = raise_nofile();

    stats = shared_zeroed(sizeof *stats * (size_t)opt.workers);
    if (!stats || pipe2(pipefd, O_CLOEXEC) < 0) {
        printf("{\"type\":\"error\",\"op\":\"setup\",\"errno\":\"%s\",\"message\":\"mmap/pipe failed\"}\n",
               errname(errno));
        return 1;
    }

    block_parent_signals(&set);
    pid_t parent = getpid();
    fflush(stdout);
    for (int w = 0; w < opt.workers; w++) {
        pid_t pid = fork_worker();
        if (pid < 0) {
            printf("{\"type\":\"error\",\"op\":\"fork\",\"errno\":\"%s\",\"message\":\"fork failed\"}\n",
                   errname(errno));
            kill_workers();
            return 1;
        }
        if (pid == 0) {
            close(pipefd[0]);
            worker(w, pipefd[1], parent);
            _exit(0);
        }
        pids[w] = pid;
    }
    close(pipefd[1]);
    wait_ready(pipefd[0]);
    close(pipefd[0]);

    printf("{\"type\":\"ready\",\"ports\":[");
    for (int i = 0; i < opt.nports; i++)
        printf("%s%d", i ? "," : "", opt.ports[i]);
    uint64_t fds_at_start = 0;
    for (int w = 0; w < opt.workers; w++)
        if (STAT_GET(stats[w].fds_at_start) > fds_at_start)
            fds_at_start = STAT_GET(stats[w].fds_at_start);
    printf("],\"workers\":%d,\"backlog\":%d,\"nofile\":%ld,\"fds_at_start\":%llu,\"accept_paused\":%s,"
           "\"accept_delay_ms\":%d,\"deadline\":%d}\n",
           opt.workers, opt.backlog, nofile, (unsigned long long)fds_at_start, opt.accept_paused ? "true" : "false",
           opt.accept_delay_ms, opt.deadline_s);
    fflush(stdout);

    /* Last resort if the loop below is stuck (e.g. blocked writing stdout):
     * SIGALRM kills the parent and PDEATHSIG takes the workers down. */
    alarm((unsigned)opt.deadline_s + 5);

    long long deadline_at = t0 + (long long)opt.deadline_s * 1000;
    long long next_progress = now_ms() + opt.progress_ms;
    const char *reason = "deadline";
    for (;;) {
        long long now = now_ms();
        if (now >= deadline_at)
            break;
        if (now >= next_progress) {
            print_counts("progress", NULL);
            next_progress += opt.progress_ms;
            if (next_progress <= now)
                next_progress = now + opt.progress_ms;
        }
        if (wait_for_stop(&set, (next_progress < deadline_at ? next_progress : deadline_at) - now, pids, opt.workers)) {
            reason = "signal";
            break;
        }
    }
    kill_workers();
    print_counts("summary", reason);
    return 0;
}
