/* Helpers shared by labserver and labclient: errno names, per-errno counters
 * printed as JSON objects, a monotonic clock, RLIMIT_NOFILE raising. */
#ifndef LAB_ERRNAMES_H
#define LAB_ERRNAMES_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

/* Linux errno values stay below 134; slot 0 collects anything out of range. */
#define ERR_SLOTS 160

static inline int err_slot(int e)
{
    return (e > 0 && e < ERR_SLOTS) ? e : 0;
}

static inline const char *errname(int e)
{
    static char buf[16];

    switch (e) {
#define N(x) case x: return #x;
    N(EPERM) N(ENOENT) N(ESRCH) N(EINTR) N(EIO) N(ENXIO) N(E2BIG) N(EBADF)
    N(ECHILD) N(EAGAIN) N(ENOMEM) N(EACCES) N(EFAULT) N(EBUSY) N(EEXIST)
    N(ENODEV) N(EINVAL) N(ENFILE) N(EMFILE) N(ENOSPC) N(ESPIPE) N(EROFS)
    N(EPIPE) N(ERANGE) N(ENOSYS) N(ENOTSOCK) N(EDESTADDRREQ) N(EMSGSIZE)
    N(EPROTOTYPE) N(ENOPROTOOPT) N(EPROTONOSUPPORT) N(ESOCKTNOSUPPORT)
    N(EOPNOTSUPP) N(EPFNOSUPPORT) N(EAFNOSUPPORT) N(EADDRINUSE)
    N(EADDRNOTAVAIL) N(ENETDOWN) N(ENETUNREACH) N(ENETRESET) N(ECONNABORTED)
    N(ECONNRESET) N(ENOBUFS) N(EISCONN) N(ENOTCONN) N(ESHUTDOWN)
    N(ETIMEDOUT) N(ECONNREFUSED) N(EHOSTDOWN) N(EHOSTUNREACH) N(EALREADY)
    N(EINPROGRESS) N(EPROTO) N(ENONET) N(EOVERFLOW)
#undef N
    }
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

/* Counters live in MAP_SHARED memory: one writer (a worker), one reader
 * (the parent), so relaxed atomics are enough to avoid torn reads. */
#define STAT_ADD(x, n) __atomic_add_fetch(&(x), (n), __ATOMIC_RELAXED)
#define STAT_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static inline void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Prints "key":{"EMFILE":3,...} with only the non-zero counters. */
static inline void json_errmap(FILE *f, const char *key, const uint64_t *counts)
{
    int first = 1;

    fprintf(f, "\"%s\":{", key);
    for (int e = 0; e < ERR_SLOTS; e++) {
        if (!counts[e])
            continue;
        fprintf(f, "%s\"%s\":%llu", first ? "" : ",", e ? errname(e) : "EOTHER",
                (unsigned long long)counts[e]);
        first = 0;
    }
    fputc('}', f);
}

static inline long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
static inline long raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    rl.rlim_cur = rl.rlim_max;
    if (rl.rlim_cur == RLIM_INFINITY) {
        /* An unlimited hard limit is still capped by fs.nr_open. */
        FILE *f = fopen("/proc/sys/fs/nr_open", "r");
        unsigned long nr = 1048576;
        if (f) {
            if (fscanf(f, "%lu", &nr) != 1)
                nr = 1048576;
            fclose(f);
        }
        rl.rlim_cur = nr;
    }
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

/* Counts occurrences of a 4-byte token that cannot overlap itself ("Ping",
 * "Pong"); *state carries a partial match across reads. */
static inline int count_token(unsigned char *state, const char *tok,
                              const char *buf, size_t n)
{
    unsigned s = *state;
    int hits = 0;

    for (size_t i = 0; i < n; i++) {
        if (buf[i] == tok[s]) {
            if (++s == 4) {
                hits++;
                s = 0;
            }
        } else {
            s = buf[i] == tok[0];
        }
    }
    *state = (unsigned char)s;
    return hits;
}

#endif
