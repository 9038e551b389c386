/* labclient: opens N TCP connections spread over P worker processes and a set
 * of targets, holds them until a signal or the deadline, optionally pings
 * them (one round, or connscale's Ping every interval with a Pong timeout),
 * and reports JSON lines on stdout (start, progress, filled, ping, held,
 * summary).
 *
 * With --request PATH every connection sends one "GET PATH HTTP/1.1" as soon
 * as it is up and holds on waiting for the answer (a long-poll through a
 * proxy): the lines count the answers per HTTP status ("statuses"), the
 * requests sent, and the connections that ended before their answer came.
 * "filled" then waits, after the last connect, until every request has its
 * answer or no answer has come for --answer-wait-ms: a held request never
 * gets one, and a busy proxy may still be answering the others. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "addr.h"
#include "errnames.h"
#include "histogram.h"
#include "http.h"
#include "workers.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_TARGETS 64
/* --sources: the addresses sockets are bound to in turn (several per family at most) */
#define MAX_SOURCES 32
/* what the flood spreads over: (source, target) of one family, or a target alone without --sources */
#define MAX_PAIRS (MAX_SOURCES * MAX_TARGETS)
#define MAX_PROCS 1024
#define FD_RESERVE 32
#define PARENT_POLL_MS 50
#define ABORT_WAIT_MS 5000
/* --cost-ports: connect() timed per 2% of the port range in use when it was called, in a histogram of
 * microseconds per bucket (histogram.h's log-linear bins, up to about 2 s) */
#define COST_BUCKETS 50
#define COST_BINS 320
/* connscale's hold stepping down (--ping-step-down-ms): the cadence asked and at most seven slower ones */
#define MAX_STEPS 8
/* A Pong later than this share of the timeout (or a Ping out that long) says the machine fell behind the
 * cadence: the worker then sends no more Pings in it, and those out come back well before their timeout. */
#define BEHIND_DIVISOR 4

/* One cadence of a hold that steps down: its Pings, Pongs, timeouts and round trips (each counted under the
 * cadence its Ping was sent in), how long the worker pinged it, and whether the worker got into it, held it
 * (its time over, its Pings in, none later than a quarter of the timeout), or fell behind in it. */
struct step_stats {
    uint64_t sent, pongs, timeouts, unanswered, hold_ms;
    uint32_t entered, completed, behind;
    struct histogram rtt;
};

struct wstats {
    uint64_t asked, established, open, inflight, failed, dropped, pings, pongs, ping_lost;
    uint64_t fill_ms;       /* t_ms when this worker finished filling */
    uint64_t fds_at_start;  /* descriptors the worker held before its first socket */
    uint64_t sent_bytes;    /* --send-bytes: what the kernel took into the send queues */
    /* connscale's hold: Pings sent, Pongs in time, Pongs late or missing (the connection is then ended), and
     * of those the Pings still unanswered when given up. Every timeout is in the rtt histogram too: a late
     * Pong at its round trip, an unanswered Ping at the time it was given up (at least the timeout). */
    uint64_t hp_sent, hp_pongs, hp_timeouts, hp_unanswered, hold_ms;
    /* --request: GETs sent, their answers per status, and connections that ended with theirs still due */
    uint64_t requests, answered, cut_short;
    uint64_t statuses[HTTP_STATUS_SLOTS];
    uint32_t filled, pinged; /* set with release semantics after the counters */
    uint32_t held;           /* holds ended (a hold may be started again): counted with release semantics */
    struct histogram rtt;
    struct step_stats steps[MAX_STEPS];
    uint64_t errors[ERR_SLOTS];
    uint64_t bind_errors[ERR_SLOTS];
} __attribute__((aligned(64)));

enum bind_mode { BIND_NONE, BIND_ANY, BIND_REUSEADDR, BIND_NOBINDPORT };
static const char *bind_names[] = { "none", "any", "reuseaddr", "nobindport" };

static struct {
    struct sockaddr_storage targets[MAX_TARGETS];
    socklen_t target_len[MAX_TARGETS];
    char target_str[MAX_TARGETS][64];
    int ntargets;
    /* --sources: each socket is bound to one of these (port 0) before connect(), in turn */
    struct sockaddr_storage sources[MAX_SOURCES];
    socklen_t source_len[MAX_SOURCES];
    char source_str[MAX_SOURCES][48];
    int nsources;
    long count;
    int processes;
    int inflight;
    int deadline_s;
    int connect_timeout_ms;
    int progress_ms;
    int ping_wait_ms;
    enum bind_mode bind;
    /* IP_LOCAL_PORT_RANGE (6.3+): low | high << 16, or 0 for the namespace's range. */
    uint32_t socket_port_range;
    bool ping;
    /* The server speaks HTTP/1.1: a Ping is a GET / and a Pong the status line of its answer. */
    bool http;
    /* Make exactly --count attempts, whatever fails: for experiments where a failure is not exhaustion. */
    bool keep_asking;
    /* Bytes sent once on each new connection (the server may leave them unread). */
    long send_bytes;
    /* connscale: after the fill, every connection sends Ping every interval for this long. */
    int hold_ping_s, ping_interval_ms, ping_timeout_ms;
    /* The cadences in turn: the asked one first (--ping-interval-ms), then each slower one it may step down
     * to (--ping-step-down-ms) when the machine falls behind. */
    int intervals_ms[MAX_STEPS];
    int nsteps;
    /* --ping-stop-behind: a single cadence keeps the rule of one that steps down (a worker that falls behind
     * sends no more Pings in it), so that a rate past what the machine answers ends no connection. */
    bool stop_behind;
    /* --request: the path each connection GETs once, and how long "filled" waits for the answers. */
    const char *request;
    int answer_wait_ms;
    /* The ports connect() may pick from: with it, each connect() that gets a port is timed and counted
     * under the share of them in use (this namespace's connections, every worker's) when it was called. */
    long cost_ports;
} opt = { .count = -1, .processes = 1, .inflight = 256, .deadline_s = 120,
          .connect_timeout_ms = 10000, .progress_ms = 500, .ping_wait_ms = 5000,
          .answer_wait_ms = 2000 };

static struct wstats *stats;

/* Per worker, in shared memory only with --cost-ports. */
struct cost_stats {
    uint64_t calls[COST_BUCKETS], ns[COST_BUCKETS];
    uint32_t us[COST_BUCKETS][COST_BINS];
};
static struct cost_stats *costs;
static pid_t pids[MAX_PROCS];
static long long t0;
static long nofile;

static void die_usage(const char *msg)
{
    printf("{\"type\":\"error\",\"message\":");
    json_string(stdout, msg);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "usage: labclient --targets IP:PORT|[IPv6]:PORT[,...] --count N [--sources IP[,IP...]] [--processes P] "
                    "[--inflight K] [--deadline S] [--connect-timeout-ms T] "
                    "[--bind none|any|reuseaddr|nobindport] [--progress-ms M] [--ping] "
                    "[--ping-wait-ms W] [--keep-asking] [--send-bytes B] "
                    "[--hold-ping-seconds S --ping-interval-ms I --ping-timeout-ms T [--ping-step-down-ms I,...] [--ping-stop-behind]] "
                    "[--cost-ports N] [--http] "
                    "[--request PATH [--answer-wait-ms W]]\n");
    exit(2);
}

static long parse_long(const char *s, long min, long max, const char *what)
{
    char *end, msg[128];
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        snprintf(msg, sizeof msg, "bad value for %s: '%s'", what, s);
        die_usage(msg);
    }
    return v;
}

static void parse_targets(char *s)
{
    char msg[128];

    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        int t = opt.ntargets;

        if (t == MAX_TARGETS)
            die_usage("too many targets");
        if (strlen(tok) >= sizeof opt.target_str[0] || !parse_endpoint(tok, &opt.targets[t], &opt.target_len[t])) {
            snprintf(msg, sizeof msg, "bad target '%.60s' (want IPv4:PORT or [IPv6]:PORT)", tok);
            die_usage(msg);
        }
        snprintf(opt.target_str[t], sizeof opt.target_str[0], "%s", tok);
        opt.ntargets++;
    }
}

static void parse_sources(char *s)
{
    char msg[128];

    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        int i = opt.nsources;

        if (i == MAX_SOURCES)
            die_usage("too many sources");
        if (strlen(tok) >= sizeof opt.source_str[0] || !parse_address(tok, &opt.sources[i], &opt.source_len[i])) {
            snprintf(msg, sizeof msg, "bad source address '%.60s'", tok);
            die_usage(msg);
        }
        snprintf(opt.source_str[i], sizeof opt.source_str[0], "%s", tok);
        opt.nsources++;
    }
}

/* What the flood spreads over, round robin: every (source, target) of one family, or each target alone. */
static struct {
    short source; /* -1: no source, the kernel's choice (or the wildcard with --bind) */
    short target;
} pairs[MAX_PAIRS];
static int npairs;

static void make_pairs(void)
{
    for (int t = 0; t < opt.ntargets; t++) {
        if (!opt.nsources) {
            pairs[npairs].source = -1;
            pairs[npairs++].target = (short)t;
            continue;
        }
        for (int i = 0; i < opt.nsources; i++) {
            if (opt.sources[i].ss_family != opt.targets[t].ss_family)
                continue;
            pairs[npairs].source = (short)i;
            pairs[npairs++].target = (short)t;
        }
    }
    if (!npairs)
        die_usage("no source address of a target's family");
}

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "targets", required_argument, 0, 't' },
        { "count", required_argument, 0, 'n' },
        { "processes", required_argument, 0, 'p' },
        { "inflight", required_argument, 0, 'k' },
        { "deadline", required_argument, 0, 'D' },
        { "connect-timeout-ms", required_argument, 0, 'T' },
        { "bind", required_argument, 0, 'b' },
        { "progress-ms", required_argument, 0, 'g' },
        { "ping", no_argument, 0, 'P' },
        { "keep-asking", no_argument, 0, 'K' },
        { "ping-wait-ms", required_argument, 0, 'W' },
        { "socket-port-range", required_argument, 0, 'R' },
        { "send-bytes", required_argument, 0, 'B' },
        { "hold-ping-seconds", required_argument, 0, 'H' },
        { "ping-interval-ms", required_argument, 0, 'I' },
        { "ping-timeout-ms", required_argument, 0, 'O' },
        { "ping-step-down-ms", required_argument, 0, 'd' },
        { "ping-stop-behind", no_argument, 0, 'Z' },
        { "cost-ports", required_argument, 0, 'C' },
        { "http", no_argument, 0, 'h' },
        { "sources", required_argument, 0, 'S' },
        { "request", required_argument, 0, 'Q' },
        { "answer-wait-ms", required_argument, 0, 'A' },
        { 0, 0, 0, 0 },
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't': parse_targets(optarg); break;
        case 'S': parse_sources(optarg); break;
        case 'n': opt.count = parse_long(optarg, 0, 100000000, "--count"); break;
        case 'p': opt.processes = (int)parse_long(optarg, 1, MAX_PROCS, "--processes"); break;
        case 'k': opt.inflight = (int)parse_long(optarg, 1, 1000000, "--inflight"); break;
        case 'D': opt.deadline_s = (int)parse_long(optarg, 1, 100000000, "--deadline"); break;
        case 'T': opt.connect_timeout_ms = (int)parse_long(optarg, 1, 3600000, "--connect-timeout-ms"); break;
        case 'g': opt.progress_ms = (int)parse_long(optarg, 10, 3600000, "--progress-ms"); break;
        case 'P': opt.ping = true; break;
        case 'h': opt.http = true; break;
        case 'K': opt.keep_asking = true; break;
        case 'W': opt.ping_wait_ms = (int)parse_long(optarg, 1, 3600000, "--ping-wait-ms"); break;
        case 'B': opt.send_bytes = parse_long(optarg, 1, 64L << 20, "--send-bytes"); break;
        case 'H': opt.hold_ping_s = (int)parse_long(optarg, 1, 86400, "--hold-ping-seconds"); break;
        case 'I': opt.ping_interval_ms = (int)parse_long(optarg, 1, 3600000, "--ping-interval-ms"); break;
        case 'O': opt.ping_timeout_ms = (int)parse_long(optarg, 1, 3600000, "--ping-timeout-ms"); break;
        case 'd': {
            opt.nsteps = 1;
            for (char *item = strtok(optarg, ","); item; item = strtok(NULL, ",")) {
                if (opt.nsteps == MAX_STEPS)
                    die_usage("--ping-step-down-ms takes at most 7 intervals");
                opt.intervals_ms[opt.nsteps++] = (int)parse_long(item, 1, 3600000, "--ping-step-down-ms");
            }
            break;
        }
        case 'Z': opt.stop_behind = true; break;
        case 'C': opt.cost_ports = parse_long(optarg, 1, 65536, "--cost-ports"); break;
        case 'Q':
            if (optarg[0] != '/' || strlen(optarg) > 200 || strpbrk(optarg, " \r\n\t"))
                die_usage("--request takes a path: /..., at most 200 characters, no spaces");
            opt.request = optarg;
            break;
        case 'A': opt.answer_wait_ms = (int)parse_long(optarg, 1, 3600000, "--answer-wait-ms"); break;
        case 'R': {
            char *dash = strchr(optarg, '-');
            long lo, hi;
            if (!dash)
                die_usage("--socket-port-range must be LOW-HIGH");
            *dash = '\0';
            lo = parse_long(optarg, 1, 65535, "--socket-port-range");
            hi = parse_long(dash + 1, lo, 65535, "--socket-port-range");
            opt.socket_port_range = (uint32_t)lo | (uint32_t)hi << 16;
            break;
        }
        case 'b': {
            int m;
            for (m = 0; m < 4 && strcmp(optarg, bind_names[m]); m++)
                ;
            if (m == 4)
                die_usage("--bind must be none, any, reuseaddr or nobindport");
            opt.bind = (enum bind_mode)m;
            break;
        }
        default: die_usage("unknown option or missing argument");
        }
    }
    if (optind < argc)
        die_usage("unexpected positional argument");
    if (!opt.ntargets)
        die_usage("--targets is required");
    if (opt.count < 0)
        die_usage("--count is required");
    if (opt.hold_ping_s && (!opt.ping_interval_ms || !opt.ping_timeout_ms))
        die_usage("--hold-ping-seconds needs --ping-interval-ms and --ping-timeout-ms");
    if (!opt.nsteps)
        opt.nsteps = 1;
    opt.intervals_ms[0] = opt.ping_interval_ms;
    for (int k = 1; k < opt.nsteps; k++)
        if (opt.intervals_ms[k] <= opt.intervals_ms[k - 1])
            die_usage("--ping-step-down-ms takes intervals longer than --ping-interval-ms, each longer than the one before");
    if ((opt.nsteps > 1 || opt.stop_behind) && !opt.hold_ping_s)
        die_usage("--ping-step-down-ms and --ping-stop-behind need --hold-ping-seconds");
    if (opt.request && (opt.ping || opt.hold_ping_s || opt.http))
        die_usage("--request is a mode of its own: not with --ping, --hold-ping-seconds or --http");
    make_pairs();
}

static long share_of(int w)
{
    return opt.count / opt.processes + (w < opt.count % opt.processes);
}

/* ---------------------------------------------------------------- worker */

enum { C_FREE, C_CONNECTING, C_HELD };

/* Per-fd state. Connecting fds also sit in a list ordered by start time,
 * which is also their timeout order. */
struct conn {
    unsigned char state, pong_state, awaiting_pong;
    unsigned char ping_step; /* connscale's hold: the cadence the outstanding Ping was sent in */
    int prev, next;
    long long started;
    long long ping_sent_us; /* connscale's hold: when the outstanding Ping left */
};

static struct wstats *me;
static struct conn *conns;
/* --request: each connection's answer as read so far */
static struct http_reader *readers;
static char request_text[256];
static size_t request_len;
static void abort_all(int sig);
static int conn_head = -1, conn_tail = -1;
static int epfd;
static long share;
static long asked;
static bool spent[MAX_PAIRS];
static int nspent, rr;
static bool fd_limit;
/* connscale's hold: 0 not yet, 1 pinging, 2 over. It starts when the orchestrator says every client has
 * filled (SIGUSR2), so no client pings while others still connect. */
static int hold_phase;
/* What a Pong later than a quarter of the timeout does to the cadence its Ping was sent in (with the hold). */
static void hp_fell_behind(int step);
/* Whether a worker that falls behind its cadence stops pinging it: where the hold steps down, or asked to. */
static bool hp_behind_rule(void)
{
    return opt.nsteps > 1 || opt.stop_behind;
}
static volatile sig_atomic_t hold_go;
/* A hold started again (SIGUSR2 after one ended) may ask for another cadence: the interval in ms it came with
 * (sigqueue, `pkill --queue MS`), or 0 for the one asked on the command line. The bench's knee search pings
 * one fill at rate after rate this way. */
static volatile sig_atomic_t hold_interval_ms;
/* SIGHUP: the orchestrator says "enough" (the machine's memory ran low): ask for no more connections and
 * report what is held as filled. In a hold that steps down, it says the hold is over: every process of every
 * client held a cadence. (A flag, not a count: the signal may reach a worker twice, from the orchestrator and
 * forwarded by the parent.) */
static volatile sig_atomic_t enough;

static void on_hold_go(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    if (info->si_code == SI_QUEUE && info->si_value.sival_int > 0)
        hold_interval_ms = info->si_value.sival_int;
    hold_go = 1;
}

static void on_enough(int sig)
{
    (void)sig;
    enough = 1;
}

static void count_err(uint64_t *map, int e)
{
    STAT_ADD(map[err_slot(e)], 1);
}

static void list_append(int fd)
{
    conns[fd].prev = conn_tail;
    conns[fd].next = -1;
    if (conn_tail >= 0)
        conns[conn_tail].next = fd;
    else
        conn_head = fd;
    conn_tail = fd;
}

static void list_remove(int fd)
{
    if (conns[fd].prev >= 0)
        conns[conns[fd].prev].next = conns[fd].next;
    else
        conn_head = conns[fd].next;
    if (conns[fd].next >= 0)
        conns[conns[fd].next].prev = conns[fd].prev;
    else
        conn_tail = conns[fd].prev;
}

static void mark_spent(int p)
{
    if (!spent[p]) {
        spent[p] = true;
        nspent++;
    }
}

static int pick_pair(void)
{
    for (int k = 0; k < npairs; k++) {
        int p = (rr + k) % npairs;
        if (!spent[p]) {
            rr = p + 1;
            return p;
        }
    }
    return -1;
}

static bool more_to_ask(void)
{
    return asked < share && !fd_limit && nspent < npairs && !enough;
}

/* A failed connection attempt: counted, closed, maybe ending its (source, target) pair. */
static void fail(int fd, uint64_t *map, int e, int target)
{
    count_err(map, e);
    STAT_ADD(me->failed, 1);
    if (fd >= 0) {
        close(fd);
        conns[fd].state = C_FREE;
    }
    /* Once the ephemeral ports for a pair are gone every further attempt
     * costs a full port-range scan in the kernel, so stop asking. */
    if (target >= 0 && !opt.keep_asking && (map == me->errors ? e == EADDRNOTAVAIL : e == EADDRINUSE))
        mark_spent(target);
}

/* --send-bytes: as much of it as the send queue takes now; what it refuses is not retried. */
static void send_payload(int fd)
{
    static char payload[65536];
    long left = opt.send_bytes;

    while (left > 0) {
        ssize_t w = send(fd, payload, left < (long)sizeof payload ? (size_t)left : sizeof payload, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0)
            break;
        STAT_ADD(me->sent_bytes, (uint64_t)w);
        left -= w;
    }
}

static void drop(int fd);
/* --request: requests of this worker still waiting for their answer, and when the last answer came */
static long awaiting;
static long long last_answer_ms;

/* --request: the GET, whole in one send (a connection that cannot take it is dropped, nothing asked). */
static void send_request(int fd)
{
    http_reader_reset(&readers[fd]);
    if (send(fd, request_text, request_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)request_len) {
        drop(fd);
        return;
    }
    conns[fd].awaiting_pong = 1;
    awaiting++;
    STAT_ADD(me->requests, 1);
}

static void count_answer(int fd, int status)
{
    last_answer_ms = now_ms();
    STAT_ADD(me->statuses[http_status_slot(status)], 1);
    if (conns[fd].awaiting_pong) {
        conns[fd].awaiting_pong = 0;
        awaiting--;
        STAT_ADD(me->answered, 1);
    }
}

/* --request: the answer as it comes; the peer's close completes an answer without Content-Length, or cuts
 * the request short. */
static void request_readable(int fd)
{
    char buf[4096];
    uint16_t statuses[16];
    ssize_t r = read(fd, buf, sizeof buf);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        if (r < 0)
            count_err(me->errors, errno);
        int status = r == 0 ? http_at_close(&readers[fd]) : -1;
        if (status >= 0)
            count_answer(fd, status);
        else if (conns[fd].awaiting_pong) {
            conns[fd].awaiting_pong = 0;
            awaiting--;
            STAT_ADD(me->cut_short, 1);
        }
        drop(fd);
        return;
    }
    int n = http_read(&readers[fd], buf, (size_t)r, statuses, 16);
    for (int i = 0; i < n && i < 16; i++)
        count_answer(fd, statuses[i]);
}

static void hold(int fd)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };

    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    conns[fd].state = C_HELD;
    conns[fd].pong_state = 0;
    conns[fd].awaiting_pong = 0;
    STAT_ADD(me->established, 1);
    STAT_ADD(me->open, 1);
    if (opt.send_bytes)
        send_payload(fd);
    if (opt.request)
        send_request(fd);
}

static void drop(int fd)
{
    close(fd);
    conns[fd].state = C_FREE;
    STAT_ADD(me->open, -1);
    STAT_ADD(me->dropped, 1);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Which 2% of --cost-ports is in use: every worker's held and connecting sockets have a port each. */
static int cost_bucket(void)
{
    uint64_t used = 0;
    for (int w = 0; w < opt.processes; w++)
        used += STAT_GET(stats[w].open) + STAT_GET(stats[w].inflight);
    long b = (long)(used * COST_BUCKETS / (uint64_t)opt.cost_ports);
    return b < COST_BUCKETS ? (int)b : COST_BUCKETS - 1;
}

static void open_one(int p)
{
    static const int one = 1;
    const struct sockaddr_storage *target = &opt.targets[pairs[p].target];
    socklen_t target_len = opt.target_len[pairs[p].target];
    int source = pairs[p].source, t = p;
    struct sockaddr_storage any = { .ss_family = target->ss_family }; /* the wildcard, 0.0.0.0 or [::] */
    int fd;

    asked++;
    STAT_ADD(me->asked, 1);
    fd = socket(target->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            fd_limit = true;
        fail(-1, me->errors, errno, t);
        return;
    }
    if (fd >= nofile) { /* cannot happen while soft limit == nofile */
        fail(fd, me->errors, EMFILE, t);
        fd_limit = true;
        return;
    }
    if (opt.socket_port_range &&
        setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &opt.socket_port_range, sizeof opt.socket_port_range) < 0) {
        fail(fd, me->bind_errors, errno, t);
        return;
    }
    /* With --sources every socket is bound to its pair's address; --bind says how its port is picked. IPv6
     * sockets take the IPPROTO_IP options too (IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE). */
    if (opt.bind != BIND_NONE || source >= 0) {
        int r = 0;
        if (opt.bind == BIND_REUSEADDR)
            r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        else if (opt.bind == BIND_NOBINDPORT)
            r = setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (r == 0)
            r = source >= 0 ? bind(fd, (struct sockaddr *)&opt.sources[source], opt.source_len[source])
                            : bind(fd, (struct sockaddr *)&any, target->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
        if (r < 0) {
            fail(fd, me->bind_errors, errno, t);
            return;
        }
    }
    int bucket = opt.cost_ports ? cost_bucket() : -1;
    long long before = bucket >= 0 ? now_ns() : 0;
    int connected = connect(fd, (const struct sockaddr *)target, target_len);
    if (bucket >= 0 && (connected == 0 || errno == EINPROGRESS)) {
        struct cost_stats *mine = &costs[me - stats];
        uint64_t spent = (uint64_t)(now_ns() - before);
        int bin = hist_bucket(spent / 1000);
        STAT_ADD(mine->ns[bucket], spent);
        STAT_ADD(mine->calls[bucket], 1);
        __atomic_add_fetch(&mine->us[bucket][bin < COST_BINS ? bin : COST_BINS - 1], 1, __ATOMIC_RELAXED);
    }
    if (connected == 0) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fail(fd, me->errors, errno, -1);
            return;
        }
        hold(fd);
        return;
    }
    if (errno != EINPROGRESS) {
        fail(fd, me->errors, errno, t);
        return;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        fail(fd, me->errors, errno, -1);
        return;
    }
    conns[fd].state = C_CONNECTING;
    conns[fd].started = now_ms();
    list_append(fd);
    STAT_ADD(me->inflight, 1);
}

static void connect_done(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;

    list_remove(fd);
    STAT_ADD(me->inflight, -1);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err)
        /* Targets are not tracked per fd: an asynchronous EADDRNOTAVAIL does
         * not happen for TCP, connect() reports it synchronously. */
        fail(fd, me->errors, err, -1);
    else
        hold(fd);
}

/* A Ping, or with --http a keep-alive request: the whole of it in one send (a short send ends the connection). */
#define HTTP_PING "GET / HTTP/1.1\r\nHost: lab\r\n\r\n"
#define HTTP_PONG "HTTP/1.1 "
static bool send_ping(int fd)
{
    const char *ping = opt.http ? HTTP_PING : "Ping";
    size_t len = strlen(ping);
    return send(fd, ping, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len;
}

static void held_readable(int fd)
{
    if (opt.request)
        return request_readable(fd);
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof buf);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        /* The peer ended a held connection: a reset (the server never had it: seed 004's data step) or a FIN. */
        if (r < 0)
            count_err(me->errors, errno);
        if (conns[fd].awaiting_pong) {
            conns[fd].awaiting_pong = 0;
            STAT_ADD(me->ping_lost, 1);
        }
        drop(fd);
        return;
    }
    int n = count_token(&conns[fd].pong_state, opt.http ? HTTP_PONG : "Pong", buf, (size_t)r);
    if (!n)
        return;
    if (hold_phase == 1 && conns[fd].awaiting_pong) {
        long long rtt = now_us() - conns[fd].ping_sent_us;
        struct step_stats *step = &me->steps[conns[fd].ping_step];
        conns[fd].awaiting_pong = 0;
        /* Late or not, the round trip counts in the percentiles: a stall must show in p99 and max. */
        hist_add(&me->rtt, (uint64_t)rtt);
        hist_add(&step->rtt, (uint64_t)rtt);
        if (rtt > (long long)opt.ping_timeout_ms * 1000) {
            /* A late Pong is a timeout: connscale ends that connection. */
            STAT_ADD(me->hp_timeouts, 1);
            STAT_ADD(step->timeouts, 1);
            drop(fd);
        } else {
            STAT_ADD(me->hp_pongs, 1);
            STAT_ADD(step->pongs, 1);
        }
        if (hp_behind_rule() && rtt > (long long)opt.ping_timeout_ms * 1000 / BEHIND_DIVISOR)
            hp_fell_behind(conns[fd].ping_step);
        return;
    }
    if (hold_phase == 2) {
        conns[fd].awaiting_pong = 0;
        return; /* an answer to the hold's last Pings, after it ended: not part of any figure */
    }
    conns[fd].awaiting_pong = 0;
    STAT_ADD(me->pongs, (uint64_t)n);
}

/* connscale's hold: the held connections are split into slots spread over the interval, so Pings go out
 * evenly rather than in one burst; a slot's turn sends a Ping on each of its connections, after ending
 * any whose last Ping is still unanswered past the timeout.
 *
 * With slower cadences to step down to, the hold is a schedule every process of every client keeps alike
 * from the one signal that starts it: each cadence in turn for the hold's length, so the machine carries one
 * cadence at a time. A worker that sees a Pong later than a quarter of the timeout in a cadence has fallen
 * behind it: it sends no more Pings until the next, and those out come back long before their timeout. A
 * cadence is held by a worker when its time is over, its Pings are in, and none came back that late. The hold
 * ends after the last cadence, or when the orchestrator (which sees every client's lines) says one was held
 * everywhere (SIGHUP). */
static int hp_slots, hp_next, hp_step;
static long long hp_cycle_start, hp_end, hp_step_start, hp_hold_start;
/* Cadences whose time is over but whose Pings may still be out: settled (held or not) once they are in. */
static bool hp_settled[MAX_STEPS];

static int hp_interval(void)
{
    return opt.intervals_ms[hp_step];
}

static long long hp_due(int slot)
{
    return hp_cycle_start + (long long)slot * hp_interval() / hp_slots;
}

static long long hp_step_end(int step)
{
    return hp_hold_start + (long long)(step + 1) * opt.hold_ping_s * 1000;
}

static void hp_begin_step(long long now)
{
    int interval = hp_interval();
    hp_slots = interval < 1000 ? interval : 1000;
    hp_next = 0;
    /* Each worker takes its turns at a phase of its own within a slot: every worker of every client starts on
     * one signal, and without it they would all send their slot's Pings at the same instants, one burst of
     * (workers x Pings per slot) packets into the machine's backlog each slot. */
    long long slot_ms = interval / hp_slots;
    hp_cycle_start = now + (slot_ms > 1 ? (long long)(drand48() * (double)slot_ms) : 0);
    hp_step_start = now;
    hp_end = hp_step_end(hp_step);
    STAT_ADD(me->steps[hp_step].entered, 1);
}

/* A hold started again: its figures from zero, at the cadence it came with. A Ping the last hold left out
 * past its timeout ended its connection (connscale's rule); one still within it is forgotten. */
static void hp_restart(long long now_us_)
{
    for (int fd = 0; fd < nofile; fd++) {
        if (conns[fd].state != C_HELD || !conns[fd].awaiting_pong)
            continue;
        if (now_us_ - conns[fd].ping_sent_us > (long long)opt.ping_timeout_ms * 1000)
            drop(fd);
        else
            conns[fd].awaiting_pong = 0;
    }
    __atomic_store_n(&me->hp_sent, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&me->hp_pongs, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&me->hp_timeouts, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&me->hp_unanswered, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&me->hold_ms, 0, __ATOMIC_RELAXED);
    memset(&me->rtt, 0, sizeof me->rtt);
    memset(me->steps, 0, sizeof me->steps);
    memset(hp_settled, 0, sizeof hp_settled);
}

static void hp_start(long long now)
{
    if (hold_phase == 2)
        hp_restart(now_us());
    /* Stepping down keeps its schedule: only a single cadence takes another. */
    if (hold_interval_ms > 0 && opt.nsteps == 1)
        opt.intervals_ms[0] = opt.ping_interval_ms = hold_interval_ms;
    hold_go = 0;
    hold_phase = 1;
    hp_step = 0;
    hp_hold_start = now;
    enough = 0; /* the fill is over: from here on SIGHUP ends a hold that steps down */
    srand48((long)getpid() ^ (long)now);
    hp_begin_step(now);
}

/* A Ping with no Pong past its timeout: a timeout that ends the connection, as in connscale. It counts in the
 * percentiles at the time it waited so far, which is more than the timeout: its round trip is at least that. */
static bool hp_given_up(int fd, long long now)
{
    long long waited = now - conns[fd].ping_sent_us;
    if (waited <= (long long)opt.ping_timeout_ms * 1000)
        return false;
    struct step_stats *step = &me->steps[conns[fd].ping_step];
    STAT_ADD(me->hp_timeouts, 1);
    STAT_ADD(me->hp_unanswered, 1);
    STAT_ADD(step->timeouts, 1);
    STAT_ADD(step->unanswered, 1);
    hist_add(&me->rtt, (uint64_t)waited);
    hist_add(&step->rtt, (uint64_t)waited);
    drop(fd);
    return true;
}

/* The time the worker pinged the current cadence: up to now, unless it fell behind and stopped then. */
static void hp_pinged_until(long long now)
{
    if (!STAT_GET(me->steps[hp_step].behind))
        STAT_ADD(me->steps[hp_step].hold_ms, (uint64_t)(now - hp_step_start));
}

/* A Pong (or a Ping still out) later than a quarter of the timeout: the cadence it was sent in fell behind. */
static void hp_fell_behind(int step)
{
    if (STAT_GET(me->steps[step].behind))
        return;
    if (step == hp_step)
        hp_pinged_until(now_ms());
    STAT_ADD(me->steps[step].behind, 1);
}

/* Settles each cadence whose time is over (the one pinged now too, where its time is): held once its Pings
 * are in with none late, fallen behind once one of them is out past a quarter of the timeout. */
/* Whether some cadence waits to be settled (its time over, or the current one where asked): only then is every
 * connection looked at, which with 20,000 per worker every 100 ms costs a tenth of a core over 6 workers. */
static bool hp_unsettled(bool current_too)
{
    for (int k = 0; k < opt.nsteps; k++)
        if (!hp_settled[k] && (k != hp_step || current_too) && STAT_GET(me->steps[k].entered))
            return true;
    return false;
}

static void hp_settle(long long now_us_, bool current_too)
{
    int out[MAX_STEPS] = { 0 };
    bool late[MAX_STEPS] = { false };
    if (!hp_unsettled(current_too))
        return;
    for (int fd = 0; fd < nofile; fd++) {
        if (conns[fd].state != C_HELD || !conns[fd].awaiting_pong)
            continue;
        int k = conns[fd].ping_step;
        out[k]++;
        if (now_us_ - conns[fd].ping_sent_us > (long long)opt.ping_timeout_ms * 1000 / BEHIND_DIVISOR)
            late[k] = true;
    }
    for (int k = 0; k < opt.nsteps; k++) {
        if (hp_settled[k] || (k == hp_step && !current_too) || !STAT_GET(me->steps[k].entered))
            continue;
        if (late[k])
            hp_fell_behind(k);
        if (STAT_GET(me->steps[k].behind) || !out[k]) {
            hp_settled[k] = true;
            if (!STAT_GET(me->steps[k].behind))
                STAT_ADD(me->steps[k].completed, 1);
        }
    }
}

static void hp_turn(int slot)
{
    long long now = now_us();

    for (int fd = slot; fd < nofile; fd += hp_slots) {
        if (conns[fd].state != C_HELD)
            continue;
        if (conns[fd].awaiting_pong) {
            hp_given_up(fd, now); /* or still within its timeout: no second Ping on top */
            continue;
        }
        if (!send_ping(fd)) {
            drop(fd);
            continue;
        }
        conns[fd].awaiting_pong = 1;
        conns[fd].ping_sent_us = now;
        conns[fd].ping_step = (unsigned char)hp_step;
        STAT_ADD(me->hp_sent, 1);
        STAT_ADD(me->steps[hp_step].sent, 1);
    }
}

/* How often a worker looks whether the Pings of a cadence whose time is over are in. */
#define SETTLE_POLL_MS 100

/* Runs every slot whose turn has come; returns ms until the next turn (or the end), or -1 when not pinging. */
static int hp_run(long long now)
{
    if (hold_phase != 1)
        return -1;
    if ((enough && opt.nsteps > 1) || (now >= hp_end && hp_step + 1 == opt.nsteps)) {
        /* Pings already past their timeout when the hold ends are timeouts too (their turn would come after
         * it); those still within it are left out of every figure, answered or not. */
        long long end_us = now_us();
        for (int fd = 0; fd < nofile; fd++)
            if (conns[fd].state == C_HELD && conns[fd].awaiting_pong)
                hp_given_up(fd, end_us);
        hp_pinged_until(now);
        /* Those before it settle as they stand; the cadence it ended in too where its time was over. */
        hold_phase = 2;
        if (hp_behind_rule()) {
            hp_settle(end_us, now >= hp_end);
            if (!hp_settled[hp_step] && now >= hp_end && !STAT_GET(me->steps[hp_step].behind))
                STAT_ADD(me->steps[hp_step].completed, 1);
        }
        STAT_ADD(me->hold_ms, (uint64_t)(now - hp_hold_start));
        hold_go = 0; /* a second "hold now" that came during it (from the orchestrator and the parent both) */
        __atomic_add_fetch(&me->held, 1, __ATOMIC_RELEASE);
        return -1;
    }
    if (now >= hp_end) {
        hp_pinged_until(now);
        hp_step++;
        hp_begin_step(now);
    }
    if (hp_behind_rule())
        hp_settle(now_us(), false);
    /* Fallen behind (only where it steps down, or with --ping-stop-behind): no more Pings in this cadence. */
    if (!STAT_GET(me->steps[hp_step].behind)) {
        while (now >= hp_due(hp_next) && now < hp_end) {
            hp_turn(hp_next);
            if (++hp_next == hp_slots) {
                hp_next = 0;
                hp_cycle_start += hp_interval();
            }
        }
    }
    long long next = hp_end;
    if (!STAT_GET(me->steps[hp_step].behind) && hp_due(hp_next) < next)
        next = hp_due(hp_next);
    if (hp_behind_rule() && hp_unsettled(false) && next - now > SETTLE_POLL_MS)
        next = now + SETTLE_POLL_MS;
    return (int)(next > now ? next - now : 0);
}

static void expire_connects(long long now)
{
    while (conn_head >= 0 && now - conns[conn_head].started >= opt.connect_timeout_ms) {
        int fd = conn_head;
        list_remove(fd);
        STAT_ADD(me->inflight, -1);
        fail(fd, me->errors, ETIMEDOUT, -1);
    }
}

static void send_pings(void)
{
    for (int fd = 0; fd < nofile; fd++) {
        if (conns[fd].state != C_HELD)
            continue;
        if (send_ping(fd)) {
            STAT_ADD(me->pings, 1);
            conns[fd].awaiting_pong = 1;
        } else
            drop(fd);
    }
}

static void worker(int idx, pid_t parent)
{
    struct epoll_event evs[512];
    bool filled = false, pinged = !opt.ping;
    long long ping_until = 0, answers_until = 0;

    me = &stats[idx];
    share = share_of(idx);
    signal(SIGUSR1, abort_all);
    /* SIGUSR2 and SIGHUP are taken only inside epoll_pwait, so they can never fall between a check and the wait. */
    sigset_t usr2, waiting;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigaddset(&usr2, SIGHUP);
    struct sigaction go = { .sa_sigaction = on_hold_go, .sa_flags = SA_SIGINFO };
    sigemptyset(&go.sa_mask);
    sigaction(SIGUSR2, &go, NULL);
    signal(SIGHUP, on_enough);
    sigprocmask(SIG_BLOCK, &usr2, &waiting);
    sigdelset(&waiting, SIGUSR2);
    sigdelset(&waiting, SIGHUP);
    /* Stopping is the parent's call (pkill signals every process of the program): it aborts us with SIGUSR1. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    raise_nofile();
    /* Safety net in case the parent cannot enforce the deadline itself. */
    alarm((unsigned)opt.deadline_s + 2);

    conns = calloc((size_t)nofile, sizeof *conns);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || epfd < 0)
        _exit(1);
    if (opt.request) {
        readers = calloc((size_t)nofile, sizeof *readers);
        request_len = http_request(request_text, sizeof request_text, opt.request);
        if (!readers || !request_len)
            _exit(1);
    }
    STAT_ADD(me->fds_at_start, (uint64_t)open_descriptors());
    rr = idx % npairs; /* spread the workers' first picks over the pairs */

    for (;;) {
        /* epoll_pwait delivers a pending signal only when it would block (it returns events first), so a
         * busy flood never takes "enough" there: look for it here. */
        if (!enough) {
            sigset_t pending;
            sigpending(&pending);
            if (sigismember(&pending, SIGHUP)) {
                sigset_t hup;
                int sig;
                sigemptyset(&hup);
                sigaddset(&hup, SIGHUP);
                sigwait(&hup, &sig);
                enough = 1;
            }
        }
        while (more_to_ask() && STAT_GET(me->inflight) < (uint64_t)opt.inflight) {
            open_one(pick_pair());
        }
        long long now = now_ms();
        /* --request: the connects are over; the answers are in once none has come for --answer-wait-ms. */
        bool answers_in = true;
        if (opt.request && !filled && !more_to_ask() && conn_head < 0) {
            long long quiet_from = answers_until ? (last_answer_ms > answers_until - opt.answer_wait_ms ? last_answer_ms : answers_until - opt.answer_wait_ms) : now;
            answers_until = quiet_from + opt.answer_wait_ms;
            answers_in = awaiting <= 0 || now >= answers_until;
        }
        if (!filled && !more_to_ask() && conn_head < 0 && answers_in) {
            filled = true;
            STAT_ADD(me->fill_ms, (uint64_t)(now - t0));
            __atomic_store_n(&me->filled, 1, __ATOMIC_RELEASE);
            if (opt.ping) {
                send_pings();
                ping_until = now + opt.ping_wait_ms;
            }
        }
        if (filled && !pinged &&
            (STAT_GET(me->pongs) + STAT_GET(me->ping_lost) >= STAT_GET(me->pings) || now >= ping_until)) {
            pinged = true;
            __atomic_store_n(&me->pinged, 1, __ATOMIC_RELEASE);
        }
        if (filled && pinged && opt.hold_ping_s && hold_phase != 1 && hold_go)
            hp_start(now);
        int hp_wait = hp_run(now);

        int timeout = -1;
        if (conn_head >= 0) {
            long long left = conns[conn_head].started + opt.connect_timeout_ms - now;
            timeout = left > 0 ? (int)left : 0;
        }
        if (filled && !pinged) {
            long long left = ping_until - now;
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        if (hp_wait >= 0 && (timeout < 0 || hp_wait < timeout))
            timeout = hp_wait;
        if (!filled && answers_until) {
            long long left = answers_until > now ? answers_until - now : 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }

        int n = epoll_pwait(epfd, evs, 512, timeout, &waiting);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (conns[fd].state == C_CONNECTING)
                connect_done(fd);
            else if (conns[fd].state == C_HELD)
                held_readable(fd);
        }
        expire_connects(now_ms());
    }
}

/* ---------------------------------------------------------------- parent */

/* Whether every live worker's flag (or count) has reached `at_least`. */
static bool all_workers(size_t flag_offset, uint32_t at_least)
{
    for (int w = 0; w < opt.processes; w++) {
        uint32_t *flag = (uint32_t *)((char *)&stats[w] + flag_offset);
        if (pids[w] > 0 && __atomic_load_n(flag, __ATOMIC_ACQUIRE) < at_least)
            return false;
    }
    return true;
}

/* The merged latency histogram of every worker, and the one at the last progress line (for its window). */
static struct histogram rtt_all, rtt_before;

static void print_rtt(const char *key, const struct histogram *h)
{
    printf(",\"%s\":{\"count\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu}", key,
           (unsigned long long)hist_total(h), (unsigned long long)hist_quantile(h, 0.50),
           (unsigned long long)hist_quantile(h, 0.90), (unsigned long long)hist_quantile(h, 0.99),
           (unsigned long long)hist_quantile(h, 0.999), (unsigned long long)h->max_us);
}

/* A hold that steps down: each cadence any worker got into, its figures summed over the workers (its time
 * the longest of theirs), and how many workers got into it, held it to its end, or fell behind in it. */
static void print_steps(void)
{
    printf(",\"steps\":[");
    for (int k = 0; k < opt.nsteps; k++) {
        uint64_t sent = 0, pongs = 0, timeouts = 0, unanswered = 0, hold_ms = 0;
        uint32_t entered = 0, completed = 0, behind = 0;
        struct histogram rtt = { .max_us = 0 };
        for (int w = 0; w < opt.processes; w++) {
            struct step_stats *st = &stats[w].steps[k];
            sent += STAT_GET(st->sent);
            pongs += STAT_GET(st->pongs);
            timeouts += STAT_GET(st->timeouts);
            unanswered += STAT_GET(st->unanswered);
            if (STAT_GET(st->hold_ms) > hold_ms)
                hold_ms = STAT_GET(st->hold_ms);
            entered += STAT_GET(st->entered);
            completed += STAT_GET(st->completed);
            behind += STAT_GET(st->behind);
            hist_merge(&rtt, &st->rtt);
        }
        if (!entered)
            break;
        printf("%s{\"interval_ms\":%d,\"sent\":%llu,\"pongs\":%llu,\"timeouts\":%llu,\"unanswered\":%llu,"
               "\"hold_ms\":%llu,\"entered\":%u,\"completed\":%u,\"behind\":%u",
               k ? "," : "", opt.intervals_ms[k], (unsigned long long)sent, (unsigned long long)pongs,
               (unsigned long long)timeouts, (unsigned long long)unanswered, (unsigned long long)hold_ms, entered,
               completed, behind);
        print_rtt("rtt_us", &rtt);
        putchar('}');
    }
    putchar(']');
}

/* connscale's figures: totals, percentiles so far, and those of the window since the last progress line. */
static void print_hold_ping(bool window)
{
    uint64_t sent = 0, pongs = 0, timeouts = 0, unanswered = 0, hold_ms = 0;

    memset(&rtt_all, 0, sizeof rtt_all);
    for (int w = 0; w < opt.processes; w++) {
        sent += STAT_GET(stats[w].hp_sent);
        pongs += STAT_GET(stats[w].hp_pongs);
        timeouts += STAT_GET(stats[w].hp_timeouts);
        unanswered += STAT_GET(stats[w].hp_unanswered);
        if (STAT_GET(stats[w].hold_ms) > hold_ms)
            hold_ms = STAT_GET(stats[w].hold_ms);
        hist_merge(&rtt_all, &stats[w].rtt);
    }
    printf(",\"hold_ping\":{\"sent\":%llu,\"pongs\":%llu,\"timeouts\":%llu,\"unanswered\":%llu,\"hold_ms\":%llu",
           (unsigned long long)sent, (unsigned long long)pongs, (unsigned long long)timeouts,
           (unsigned long long)unanswered, (unsigned long long)hold_ms);
    print_rtt("rtt_us", &rtt_all);
    if (opt.nsteps > 1)
        print_steps();
    else if (opt.stop_behind) {
        uint32_t behind = 0;
        for (int w = 0; w < opt.processes; w++)
            behind += STAT_GET(stats[w].steps[0].behind);
        printf(",\"behind\":%u", behind); /* workers that fell behind and stopped pinging */
    }
    if (window) {
        struct histogram delta = { .max_us = 0 };
        for (int b = 0; b < HIST_BUCKETS; b++)
            if (rtt_all.count[b] < rtt_before.count[b])
                memset(&rtt_before, 0, sizeof rtt_before); /* a hold started again: its figures began at zero */
        for (int b = 0; b < HIST_BUCKETS; b++)
            delta.count[b] = rtt_all.count[b] - rtt_before.count[b];
        print_rtt("window_rtt_us", &delta);
        rtt_before = rtt_all;
    }
    putchar('}');
}

/* Per 2% of the ports in use: connect() calls that got a port, the ns they spent inside connect(), and the
 * histogram of one call's µs as [top of bin, calls] pairs (bins within 6.25%, empty ones left out), so that
 * medians can be taken over any window of the range: a few calls carry preemption or a burst of softirq
 * work, and single calls vary tenfold. */
static void print_connect_cost(void)
{
    printf(",\"connect_cost\":{\"ports\":%ld,\"calls\":[", opt.cost_ports);
    for (int b = 0; b < COST_BUCKETS; b++) {
        uint64_t n = 0;
        for (int w = 0; w < opt.processes; w++)
            n += STAT_GET(costs[w].calls[b]);
        printf("%s%llu", b ? "," : "", (unsigned long long)n);
    }
    printf("],\"ns\":[");
    for (int b = 0; b < COST_BUCKETS; b++) {
        uint64_t ns = 0;
        for (int w = 0; w < opt.processes; w++)
            ns += STAT_GET(costs[w].ns[b]);
        printf("%s%llu", b ? "," : "", (unsigned long long)ns);
    }
    printf("],\"us\":[");
    for (int b = 0; b < COST_BUCKETS; b++) {
        bool first = true;
        printf("%s[", b ? "," : "");
        for (int i = 0; i < COST_BINS; i++) {
            uint64_t n = 0;
            for (int w = 0; w < opt.processes; w++)
                n += __atomic_load_n(&costs[w].us[b][i], __ATOMIC_RELAXED);
            if (!n)
                continue;
            printf("%s[%llu,%llu]", first ? "" : ",", (unsigned long long)hist_upper(i), (unsigned long long)n);
            first = false;
        }
        putchar(']');
    }
    printf("]}");
}

/* --request: GETs sent, answered, cut short by a close, and the answers per HTTP status. */
static void print_requests(void)
{
    uint64_t requests = 0, answered = 0, cut_short = 0, statuses[HTTP_STATUS_SLOTS] = { 0 };

    for (int w = 0; w < opt.processes; w++) {
        requests += STAT_GET(stats[w].requests);
        answered += STAT_GET(stats[w].answered);
        cut_short += STAT_GET(stats[w].cut_short);
        for (int s = 0; s < HTTP_STATUS_SLOTS; s++)
            statuses[s] += STAT_GET(stats[w].statuses[s]);
    }
    printf(",\"requests\":%llu,\"answered\":%llu,\"cut_short\":%llu,", (unsigned long long)requests,
           (unsigned long long)answered, (unsigned long long)cut_short);
    json_statusmap(stdout, "statuses", statuses);
}

static void print_counts(const char *type, long long t_ms, const char *reason)
{
    uint64_t v[8] = { 0 }, errors[ERR_SLOTS] = { 0 }, bind_errors[ERR_SLOTS] = { 0 };
    uint64_t fds_at_start = 0, sent_bytes = 0;

    for (int w = 0; w < opt.processes; w++) {
        struct wstats *s = &stats[w];
        uint64_t f[8] = { STAT_GET(s->asked), STAT_GET(s->established), STAT_GET(s->open),
                          STAT_GET(s->inflight), STAT_GET(s->failed), STAT_GET(s->dropped),
                          STAT_GET(s->pings), STAT_GET(s->pongs) };
        for (int i = 0; i < 8; i++)
            v[i] += f[i];
        if (STAT_GET(s->fds_at_start) > fds_at_start)
            fds_at_start = STAT_GET(s->fds_at_start);
        sent_bytes += STAT_GET(s->sent_bytes);
        for (int e = 0; e < ERR_SLOTS; e++) {
            errors[e] += STAT_GET(s->errors[e]);
            bind_errors[e] += STAT_GET(s->bind_errors[e]);
        }
    }
    printf("{\"type\":\"%s\",\"t_ms\":%lld,\"asked\":%llu,\"established\":%llu,\"open\":%llu,"
           "\"inflight\":%llu,\"failed\":%llu,\"dropped\":%llu,\"pings\":%llu,\"pongs\":%llu,",
           type, t_ms, (unsigned long long)v[0], (unsigned long long)v[1],
           (unsigned long long)v[2], (unsigned long long)v[3], (unsigned long long)v[4],
           (unsigned long long)v[5], (unsigned long long)v[6], (unsigned long long)v[7]);
    json_errmap(stdout, "errors", errors);
    putchar(',');
    json_errmap(stdout, "bind_errors", bind_errors);
    printf(",\"fds_at_start\":%llu", (unsigned long long)fds_at_start);
    if (opt.send_bytes)
        printf(",\"sent_bytes\":%llu", (unsigned long long)sent_bytes);
    if (opt.request)
        print_requests();
    if (opt.hold_ping_s)
        print_hold_ping(!strcmp(type, "progress"));
    if (opt.cost_ports && (!strcmp(type, "filled") || !strcmp(type, "summary")))
        print_connect_cost();
    if (reason)
        printf(",\"reason\":\"%s\"", reason);
    printf("}\n");
    fflush(stdout);
}

/* SIGUSR1 in a worker: end every connection with a reset (SO_LINGER 0) and exit. The experiment is over
 * by then, and a reset leaves no FIN exchange and no TIME_WAIT behind: with a million connections held,
 * that is minutes of the kernel's time saved at teardown. */
static void abort_all(int sig)
{
    (void)sig;
    struct linger reset = { 1, 0 };
    for (int fd = 0; conns && fd < nofile; fd++)
        if (conns[fd].state != C_FREE)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    _exit(0);
}

static void kill_workers(void)
{
    for (int w = 0; w < opt.processes; w++)
        if (pids[w] > 0)
            kill(pids[w], SIGUSR1);
    long long give_up = now_ms() + ABORT_WAIT_MS;
    for (int w = 0; w < opt.processes; w++) {
        while (pids[w] > 0 && waitpid(pids[w], NULL, WNOHANG) == 0 && now_ms() < give_up)
            usleep(10000);
        if (pids[w] > 0) {
            kill(pids[w], SIGKILL);
            waitpid(pids[w], NULL, 0);
        }
    }
}

int main(int argc, char **argv)
{
    sigset_t set;

    t0 = now_ms();
    /* "Enough" may come as soon as the program runs: held until the loop below takes it (and forwards it). */
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hup, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    nofile = raise_nofile();

    printf("{\"type\":\"start\",\"targets\":[");
    for (int i = 0; i < opt.ntargets; i++)
        printf("%s\"%s\"", i ? "," : "", opt.target_str[i]);
    printf("],\"sources\":[");
    for (int i = 0; i < opt.nsources; i++)
        printf("%s\"%s\"", i ? "," : "", opt.source_str[i]);
    printf("],\"count\":%ld,\"processes\":%d,\"nofile\":%ld,\"inflight\":%d,\"bind\":\"%s\","
           "\"connect_timeout_ms\":%d,\"deadline\":%d,\"ping\":%s}\n",
           opt.count, opt.processes, nofile, opt.inflight, bind_names[opt.bind],
           opt.connect_timeout_ms, opt.deadline_s, opt.ping ? "true" : "false");
    for (int w = 0; w < opt.processes; w++) {
        if (share_of(w) > nofile - FD_RESERVE)
            printf("{\"type\":\"warning\",\"message\":\"worker %d must open %ld connections "
                   "but its fd limit is %ld; it will stop at EMFILE\"}\n",
                   w, share_of(w), nofile);
    }
    fflush(stdout);

    stats = shared_zeroed(sizeof *stats * (size_t)opt.processes);
    if (stats && opt.cost_ports)
        costs = shared_zeroed(sizeof *costs * (size_t)opt.processes);
    if (!stats || (opt.cost_ports && !costs)) {
        printf("{\"type\":\"error\",\"message\":\"mmap failed: %s\"}\n", errname(errno));
        return 1;
    }

    block_parent_signals(&set);
    pid_t parent = getpid();
    for (int w = 0; w < opt.processes; w++) {
        pid_t pid = fork_worker();
        if (pid < 0) {
            printf("{\"type\":\"error\",\"message\":\"fork failed: %s\"}\n", errname(errno));
            kill_workers();
            return 1;
        }
        if (pid == 0) {
            worker(w, parent);
            _exit(0);
        }
        pids[w] = pid;
    }

    /* Last resort if the loop below is stuck (e.g. blocked writing stdout):
     * SIGALRM kills the parent and PDEATHSIG takes the workers down. */
    alarm((unsigned)opt.deadline_s + 5);

    long long deadline_at = t0 + (long long)opt.deadline_s * 1000;
    long long next_progress = t0 + opt.progress_ms;
    bool filled_printed = false, ping_printed = !opt.ping, held_printed = !opt.hold_ping_s;
    uint32_t holds_printed = 0;
    const char *reason = "deadline";
    for (;;) {
        long long now = now_ms();
        if (now >= deadline_at)
            break;
        if (!filled_printed && all_workers(offsetof(struct wstats, filled), 1)) {
            long long t = 0;
            for (int w = 0; w < opt.processes; w++)
                if ((long long)STAT_GET(stats[w].fill_ms) > t)
                    t = (long long)STAT_GET(stats[w].fill_ms);
            print_counts("filled", t, NULL);
            filled_printed = true;
        }
        if (filled_printed && !ping_printed && all_workers(offsetof(struct wstats, pinged), 1)) {
            print_counts("ping", now - t0, NULL);
            ping_printed = true;
        }
        /* Once per hold: a hold may be started again once one is over. */
        if (ping_printed && opt.hold_ping_s && all_workers(offsetof(struct wstats, held), holds_printed + 1)) {
            print_counts("held", now - t0, NULL);
            holds_printed++;
            held_printed = true;
        }
        if (now >= next_progress) {
            print_counts("progress", now - t0, NULL);
            next_progress += opt.progress_ms;
            if (next_progress <= now)
                next_progress = now + opt.progress_ms;
        }
        long long wake = next_progress < deadline_at ? next_progress : deadline_at;
        /* Until the fill (and the ping round) is reported, look often: the orchestrator waits on that line. */
        if ((!filled_printed || !ping_printed || !held_printed) && wake > now + PARENT_POLL_MS)
            wake = now + PARENT_POLL_MS;
        siginfo_t info;
        int sig = wait_for_signal(&set, wake - now, pids, opt.processes, &info);
        if (sig == SIGUSR2 || sig == SIGHUP) {
            forward_signal(pids, opt.processes, sig, &info);
            if (sig == SIGUSR2 && holds_printed)
                held_printed = false; /* a hold started again: look often until its line is out */
        } else if (sig == SIGINT || sig == SIGTERM) {
            reason = "signal";
            break;
        }
    }
    kill_workers();
    print_counts("summary", now_ms() - t0, reason);
    return 0;
}
