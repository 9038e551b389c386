/* HTTP/1.1 as labclient and labchurn speak it to a proxy: one GET, and the answers read back one by one
 * (status line, headers, a body of Content-Length bytes, or up to the peer's close without one). Chunked
 * bodies are not read: the lab's backends and the proxies' own error pages all send Content-Length. */
#ifndef LAB_HTTP_H
#define LAB_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Statuses counted one by one; anything else (and an answer that is not HTTP) in slot 0. */
#define HTTP_STATUS_SLOTS 600
/* The start of a line kept to look at: enough for the status line's code and the headers read. */
#define HTTP_LINE_KEPT 40

enum { HR_STATUS, HR_HEADERS, HR_BODY, HR_TO_CLOSE };

struct http_reader {
    char line[HTTP_LINE_KEPT];
    uint8_t len;      /* characters of the current line kept (at most HTTP_LINE_KEPT) */
    uint8_t phase;
    bool has_length;
    bool closing;     /* the answer said "Connection: close" */
    uint16_t status;
    uint32_t length, body_left;
};

/* The request line and headers sent for one GET; returns its length, or 0 if it does not fit. */
static inline size_t http_request(char *out, size_t size, const char *path)
{
    int n = snprintf(out, size, "GET %s HTTP/1.1\r\nHost: lab\r\n\r\n", path);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static inline void http_reader_reset(struct http_reader *r)
{
    memset(r, 0, sizeof *r);
}

static inline bool http_header_is(const struct http_reader *r, const char *name)
{
    size_t n = strlen(name);
    return r->len >= n && strncasecmp(r->line, name, n) == 0;
}

static inline int http_status_slot(int status)
{
    return status > 0 && status < HTTP_STATUS_SLOTS ? status : 0;
}

/* One whole line (its CR and LF left out) of the status line or the headers. Returns true when it ends
 * the headers of an answer that is not 1xx. */
static inline bool http_line(struct http_reader *r)
{
    if (r->phase == HR_STATUS) {
        /* "HTTP/1.x NNN ..." */
        int code = 0;
        if (r->len >= 12 && !strncmp(r->line, "HTTP/1.", 7) && r->line[8] == ' ')
            for (int i = 9; i < 12 && r->line[i] >= '0' && r->line[i] <= '9'; i++)
                code = code * 10 + (r->line[i] - '0');
        r->status = (uint16_t)(code >= 100 ? code : 0);
        r->phase = HR_HEADERS;
        return false;
    }
    if (r->len == 0) {
        if (r->status >= 100 && r->status < 200) { /* 100 Continue and the like: the answer comes after */
            r->phase = HR_STATUS;
            return false;
        }
        return true;
    }
    if (http_header_is(r, "content-length:")) {
        const char *v = r->line + 15;
        uint32_t n = 0;
        while (v < r->line + r->len && *v == ' ')
            v++;
        while (v < r->line + r->len && *v >= '0' && *v <= '9')
            n = n * 10 + (uint32_t)(*v++ - '0');
        r->length = n;
        r->has_length = true;
    } else if (http_header_is(r, "connection:")) {
        for (const char *v = r->line + 11; v + 5 <= r->line + r->len; v++)
            if (!strncasecmp(v, "close", 5))
                r->closing = true;
    }
    return false;
}

/*
 * Feeds what was read. Each answer completed puts its status in statuses[] (at most max of them; the rest
 * are read but not returned) and starts the reader on the next; returns how many completed. An answer
 * without Content-Length is complete only when the peer closes (http_at_close).
 */
static inline int http_read(struct http_reader *r, const char *buf, size_t n, uint16_t *statuses, int max)
{
    int done = 0;
    size_t i = 0;

    while (i < n) {
        if (r->phase == HR_TO_CLOSE)
            return done;
        if (r->phase == HR_BODY) {
            size_t take = n - i < r->body_left ? n - i : r->body_left;
            r->body_left -= (uint32_t)take;
            i += take;
        } else {
            char c = buf[i++];
            if (c != '\n') {
                if (c != '\r' && r->len < HTTP_LINE_KEPT)
                    r->line[r->len++] = c;
                continue;
            }
            bool headers_end = http_line(r);
            r->len = 0;
            if (!headers_end)
                continue;
            bool bodiless = r->status == 204 || r->status == 304;
            if (!r->has_length && !bodiless) {
                r->phase = HR_TO_CLOSE;
                return done;
            }
            r->phase = HR_BODY;
            r->body_left = bodiless ? 0 : r->length;
        }
        if (r->phase == HR_BODY && r->body_left == 0) {
            if (done < max)
                statuses[done] = r->status;
            done++;
            bool closing = r->closing;
            http_reader_reset(r);
            r->closing = closing;
        }
    }
    return done;
}

/* The peer closed: the status of the answer that this completes (one read to the close), or -1 if the
 * close cut an answer short or came before any. */
static inline int http_at_close(const struct http_reader *r)
{
    return r->phase == HR_TO_CLOSE ? r->status : -1;
}

/* Whether the reader is between answers (nothing of the next one read yet). */
static inline bool http_idle(const struct http_reader *r)
{
    return r->phase == HR_STATUS && r->len == 0;
}

/* Prints "key":{"200":3,"502":1,...} with only the non-zero counters; slot 0 as "other". */
static inline void json_statusmap(FILE *f, const char *key, const uint64_t *counts)
{
    int first = 1;

    fprintf(f, "\"%s\":{", key);
    for (int s = 0; s < HTTP_STATUS_SLOTS; s++) {
        if (!counts[s])
            continue;
        if (s)
            fprintf(f, "%s\"%d\":%llu", first ? "" : ",", s, (unsigned long long)counts[s]);
        else
            fprintf(f, "%s\"other\":%llu", first ? "" : ",", (unsigned long long)counts[s]);
        first = 0;
    }
    fputc('}', f);
}

#endif
