/* labagent: the only service of a lab VM. Runs many processes at once for the
 * host over one serial line, in frames:
 *   u32 channel (LE) | u8 type | u32 length (LE) | payload
 * host -> agent: 'S' start (argv, NUL-separated), 'K' kill (ASCII signal number)
 * agent -> host: 'R' ready (channel 0, uname -r), 'P' started (ASCII pid),
 *                'O' stdout, 'E' stderr, 'X' exit (ASCII code, 128+signal; sent
 *                once both pipes are at EOF and the child is reaped),
 *                'F' could not start (message)
 * Backpressure: while the line's send buffer is full, children's pipes are not
 * read, so children block on their writes instead of the agent growing without
 * bound. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define HEADER 9
#define MAX_CHILDREN 1024
#define MAX_FRAME (1u << 20)
#define READ_CHUNK 4096
#define SEND_HIGH (64 * 1024)
#define PATH_VALUE "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

struct child {
    uint32_t channel;
    pid_t pid;
    int fds[2]; /* stdout, stderr; -1 once at EOF */
    int status;
    int reaped;
};

static struct child children[MAX_CHILDREN];
static int nchildren;
static int line = -1;
static int sigpipe_fds[2];

static unsigned char *sendbuf;
static size_t sendlen, sendcap;
static unsigned char *recvbuf;
static size_t recvlen, recvcap;

static void die(const char *what) {
    fprintf(stderr, "labagent: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void reserve(unsigned char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 65536;
    while (n < need) n *= 2;
    unsigned char *p = realloc(*buf, n);
    if (!p) die("realloc");
    *buf = p;
    *cap = n;
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}

static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void queue(uint32_t channel, char type, const void *payload, size_t len) {
    reserve(&sendbuf, &sendcap, sendlen + HEADER + len);
    unsigned char *p = sendbuf + sendlen;
    put32(p, channel);
    p[4] = (unsigned char)type;
    put32(p + 5, (uint32_t)len);
    if (len) memcpy(p + HEADER, payload, len);
    sendlen += HEADER + len;
}

static void queue_text(uint32_t channel, char type, const char *text) { queue(channel, type, text, strlen(text)); }

static void flush_some(void) {
    while (sendlen > 0) {
        ssize_t n = write(line, sendbuf, sendlen);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            die("write line");
        }
        memmove(sendbuf, sendbuf + n, sendlen - (size_t)n);
        sendlen -= (size_t)n;
    }
}

static struct child *find(uint32_t channel) {
    for (int i = 0; i < nchildren; i++)
        if (children[i].channel == channel) return &children[i];
    return NULL;
}

static void start(uint32_t channel, const unsigned char *payload, uint32_t len) {
    if (find(channel)) { queue_text(channel, 'F', "channel already in use"); return; }
    if (nchildren == MAX_CHILDREN) { queue_text(channel, 'F', "too many processes"); return; }
    if (len == 0) { queue_text(channel, 'F', "empty argv"); return; }
    /* argv: NUL-separated, the last one with or without its NUL */
    char *copy = malloc(len + 1);
    if (!copy) die("malloc");
    memcpy(copy, payload, len);
    copy[len] = 0;
    size_t argc = 0;
    for (uint32_t i = 0; i < len; i++) if (copy[i] == 0) argc++;
    if (copy[len - 1] != 0) argc++;
    char **argv = calloc(argc + 1, sizeof *argv);
    if (!argv) die("calloc");
    size_t k = 0;
    for (char *s = copy; s < copy + len && k < argc; s += strlen(s) + 1) argv[k++] = s;

    int out[2], err[2], status[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        queue_text(channel, 'F', strerror(errno));
        free(argv); free(copy);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "fork: %s", strerror(errno));
        queue_text(channel, 'F', msg);
        close(out[0]); close(out[1]); close(err[0]); close(err[1]); close(status[0]); close(status[1]);
        free(argv); free(copy);
        return;
    }
    if (pid == 0) {
        setsid();
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) {
            int e = errno;
            (void)!write(status[1], &e, sizeof e);
            _exit(127);
        }
        execvp(argv[0], argv);
        int e = errno;
        (void)!write(status[1], &e, sizeof e);
        _exit(127);
    }
    close(out[1]); close(err[1]); close(status[1]);
    /* Blocks only until the exec: the status pipe closes on success (O_CLOEXEC). */
    int e = 0;
    ssize_t got;
    do got = read(status[0], &e, sizeof e); while (got < 0 && errno == EINTR);
    close(status[0]);
    if (got == sizeof e) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: %s", argv[0], strerror(e));
        queue_text(channel, 'F', msg);
        close(out[0]); close(err[0]);
        waitpid(pid, NULL, 0);
    } else {
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        fcntl(err[0], F_SETFL, O_NONBLOCK);
        children[nchildren++] = (struct child){ .channel = channel, .pid = pid, .fds = { out[0], err[0] } };
        char text[16];
        snprintf(text, sizeof text, "%d", (int)pid);
        queue_text(channel, 'P', text);
    }
    free(argv);
    free(copy);
}

static void handle_frame(uint32_t channel, char type, const unsigned char *payload, uint32_t len) {
    if (type == 'S') {
        start(channel, payload, len);
    } else if (type == 'K') {
        struct child *c = find(channel);
        char num[16] = {0};
        memcpy(num, payload, len < sizeof num - 1 ? len : sizeof num - 1);
        int sig = atoi(num);
        /* The group outlives its leader while any member lives; it is gone once 'X' was sent. */
        if (c && sig > 0) kill(-c->pid, sig);
    }
}

static void read_line(void) {
    for (;;) {
        reserve(&recvbuf, &recvcap, recvlen + READ_CHUNK);
        ssize_t n = read(line, recvbuf + recvlen, READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            die("read line");
        }
        if (n == 0) break;
        recvlen += (size_t)n;
    }
    size_t at = 0;
    while (recvlen - at >= HEADER) {
        uint32_t len = get32(recvbuf + at + 5);
        if (len > MAX_FRAME) { fprintf(stderr, "labagent: frame of %u bytes: stream out of step\n", len); exit(1); }
        if (recvlen - at < HEADER + len) break;
        handle_frame(get32(recvbuf + at), (char)recvbuf[at + 4], recvbuf + at + HEADER, len);
        at += HEADER + len;
    }
    memmove(recvbuf, recvbuf + at, recvlen - at);
    recvlen -= at;
}

static void drain_pipe(struct child *c, int which) {
    unsigned char buf[READ_CHUNK];
    ssize_t n = read(c->fds[which], buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        close(c->fds[which]);
        c->fds[which] = -1;
        return;
    }
    queue(c->channel, which == 0 ? 'O' : 'E', buf, (size_t)n);
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < nchildren; i++) {
            if (children[i].pid == pid && !children[i].reaped) {
                children[i].reaped = 1;
                children[i].status = status;
            }
        }
    }
}

static void finish_done(void) {
    for (int i = 0; i < nchildren;) {
        struct child *c = &children[i];
        if (c->reaped && c->fds[0] < 0 && c->fds[1] < 0) {
            int code = WIFSIGNALED(c->status) ? 128 + WTERMSIG(c->status) : WEXITSTATUS(c->status);
            char text[16];
            snprintf(text, sizeof text, "%d", code);
            queue_text(c->channel, 'X', text);
            children[i] = children[--nchildren];
        } else {
            i++;
        }
    }
}

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    (void)!write(sigpipe_fds[1], "c", 1);
    errno = saved;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: labagent /dev/ttyS1\n");
        return 2;
    }
    setenv("PATH", PATH_VALUE, 1);
    signal(SIGPIPE, SIG_IGN);
    line = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (line < 0) die(argv[1]);
    if (isatty(line)) { /* a serial port; a virtio port is a plain byte pipe already */
        struct termios tio;
        if (tcgetattr(line, &tio) < 0) die("tcgetattr");
        cfmakeraw(&tio);
        tio.c_cflag |= CLOCAL | CREAD;
        tio.c_cflag &= ~CRTSCTS;
        cfsetspeed(&tio, B115200);
        if (tcsetattr(line, TCSANOW, &tio) < 0) die("tcsetattr");
        tcflush(line, TCIOFLUSH);
    }

    if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) die("pipe2");
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    struct utsname u;
    uname(&u);
    queue_text(0, 'R', u.release);

    struct pollfd pfds[2 + 2 * MAX_CHILDREN];
    struct { int child, which; } owner[2 * MAX_CHILDREN];
    for (;;) {
        int n = 0;
        pfds[n++] = (struct pollfd){ .fd = line, .events = POLLIN | (sendlen ? POLLOUT : 0) };
        pfds[n++] = (struct pollfd){ .fd = sigpipe_fds[0], .events = POLLIN };
        int base = n;
        if (sendlen < SEND_HIGH) {
            for (int i = 0; i < nchildren; i++) {
                for (int w = 0; w < 2; w++) {
                    if (children[i].fds[w] < 0) continue;
                    owner[n - base].child = i;
                    owner[n - base].which = w;
                    pfds[n++] = (struct pollfd){ .fd = children[i].fds[w], .events = POLLIN };
                }
            }
        }
        int ready = poll(pfds, (nfds_t)n, 1000);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (pfds[1].revents & POLLIN) {
            char drain[64];
            while (read(sigpipe_fds[0], drain, sizeof drain) > 0) {}
        }
        for (int k = base; k < n; k++) {
            if (pfds[k].revents & (POLLIN | POLLHUP | POLLERR)) drain_pipe(&children[owner[k - base].child], owner[k - base].which);
        }
        if (pfds[0].revents & POLLIN) read_line();
        reap();
        finish_done();
        flush_some();
    }
}
