/* A latency histogram in shared memory: log-linear buckets of microseconds (16 per power of two, so a
 * bucket is within 6.25% of any value in it), cheap to add to from a worker and to merge in the parent. */
#ifndef LAB_HISTOGRAM_H
#define LAB_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB 16
#define HIST_BUCKETS 512

struct histogram {
    uint64_t count[HIST_BUCKETS];
    uint64_t max_us;
};

static inline int hist_bucket(uint64_t us)
{
    if (us < 2 * HIST_SUB)
        return (int)us;
    int msb = 63 - __builtin_clzll(us);
    int shift = msb - 4;
    int b = (shift + 1) * HIST_SUB + (int)((us >> shift) - HIST_SUB);
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The largest value a bucket holds: percentiles are reported at the top of their bucket. */
static inline uint64_t hist_upper(int b)
{
    if (b < 2 * HIST_SUB)
        return (uint64_t)b;
    int shift = b / HIST_SUB - 1;
    uint64_t sub = (uint64_t)(b % HIST_SUB + HIST_SUB);
    return ((sub + 1) << shift) - 1;
}

static inline void hist_add(struct histogram *h, uint64_t us)
{
    __atomic_add_fetch(&h->count[hist_bucket(us)], 1, __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&h->max_us, __ATOMIC_RELAXED);
    while (us > m && !__atomic_compare_exchange_n(&h->max_us, &m, us, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* into += from (a worker's histogram read while it runs) */
static inline void hist_merge(struct histogram *into, const struct histogram *from)
{
    for (int b = 0; b < HIST_BUCKETS; b++)
        into->count[b] += __atomic_load_n(&from->count[b], __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&from->max_us, __ATOMIC_RELAXED);
    if (m > into->max_us)
        into->max_us = m;
}

static inline uint64_t hist_total(const struct histogram *h)
{
    uint64_t n = 0;
    for (int b = 0; b < HIST_BUCKETS; b++)
        n += h->count[b];
    return n;
}

/* The value at quantile q (0..1): the top of the bucket holding it, never above the largest seen. 0 if empty. */
static inline uint64_t hist_quantile(const struct histogram *h, double q)
{
    uint64_t total = hist_total(h), seen = 0;
    if (!total)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank) {
            uint64_t v = hist_upper(b);
            return h->max_us && v > h->max_us ? h->max_us : v;
        }
    }
    return h->max_us;
}

#endif
