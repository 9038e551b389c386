/* Addresses as the lab writes them on command lines: "198.18.0.2" or "fd00:1ab::2", and endpoints
 * "198.18.0.2:8080" or "[fd00:1ab::2]:8080". Shared by labclient and labchurn. */
#ifndef LAB_ADDR_H
#define LAB_ADDR_H

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An address of either family, port 0; returns its family (AF_INET or AF_INET6), or 0 if it is none. */
static inline int parse_address(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        *len = sizeof *v4;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        *len = sizeof *v6;
        return AF_INET6;
    }
    return 0;
}

/* "IPv4:PORT" or "[IPv6]:PORT" (the text is not changed); returns the family, or 0 if it is neither. */
static inline int parse_endpoint(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    const char *start = text, *end = colon;
    char *rest;
    long port;

    if (!colon)
        return 0;
    if (*text == '[') {
        start = text + 1;
        end = strchr(text, ']');
        if (!end || end + 1 != colon)
            return 0;
    } else if (strchr(text, ':') != colon) {
        return 0; /* an IPv6 address needs its brackets */
    }
    if (end - start <= 0 || (size_t)(end - start) >= sizeof host)
        return 0;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    port = strtol(colon + 1, &rest, 10);
    if (rest == colon + 1 || *rest || port < 1 || port > 65535)
        return 0;
    int family = parse_address(host, ss, len);
    if (family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    if (*text == '[' && family != AF_INET6)
        return 0;
    return family;
}

#endif
