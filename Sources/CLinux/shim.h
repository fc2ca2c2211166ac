#pragma once
// Linux-only system calls the HTTP server needs (epoll, eventfd, accept4, socket options), and glibc's
// malloc_trim/mallinfo2 for the daemon's heap (docs/soak.md: a training's freed heap given back).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <malloc.h>

// accept4 is a GNU extension that the Glibc module map hides; declare it ourselves.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int argus_accept(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

// `struct epoll_event` is packed on x86_64, so Swift's idea of its stride may differ from C's.
// These helpers keep every access to it on the C side.
static inline struct epoll_event *argus_epoll_events_alloc(int count) {
    return (struct epoll_event *)calloc((size_t)count, sizeof(struct epoll_event));
}

static inline void argus_epoll_events_free(struct epoll_event *events) { free(events); }

static inline uint64_t argus_epoll_event_data(const struct epoll_event *events, int index) {
    return events[index].data.u64;
}

static inline uint32_t argus_epoll_event_flags(const struct epoll_event *events, int index) {
    return events[index].events;
}

static inline int argus_epoll_ctl(int epfd, int op, int fd, uint32_t flags, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = flags;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

// writev without SIGPIPE: a peer that vanished must surface as EPIPE, never kill the daemon.
static inline ssize_t argus_writev_nosignal(int fd, const struct iovec *iov, int count) {
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = (struct iovec *)iov;
    message.msg_iovlen = (size_t)count;
    return sendmsg(fd, &message, MSG_NOSIGNAL);
}

static inline int argus_set_int_option(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

// Monotonic clock in nanoseconds, for deadlines (never wall time).
static inline uint64_t argus_monotonic_nanoseconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// The textual address and port of a socket's peer (or of the socket itself when `local` is 1).
static inline int argus_socket_address(int fd, int local, char *host, size_t hostLength, int *port) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    int rc = local ? getsockname(fd, (struct sockaddr *)&storage, &length)
                   : getpeername(fd, (struct sockaddr *)&storage, &length);
    if (rc != 0) return rc;
    if (storage.ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
        if (!inet_ntop(AF_INET, &v4->sin_addr, host, (socklen_t)hostLength)) return -1;
        *port = ntohs(v4->sin_port);
    } else if (storage.ss_family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
        if (!inet_ntop(AF_INET6, &v6->sin6_addr, host, (socklen_t)hostLength)) return -1;
        *port = ntohs(v6->sin6_port);
    } else {
        return -1;
    }
    return 0;
}

// Opens a non-blocking listening socket for host:port (numeric or resolvable host, IPv4 or IPv6)
// with SO_REUSEADDR and, when `reusePort` is 1, SO_REUSEPORT so each event loop can own a listener.
// Returns the fd, or -1 with errno set; `*stage` names the call that failed.
static inline int argus_listen(const char *host, int port, int backlog, int reusePort, const char **stage) {
    struct addrinfo hints, *result = NULL;
    char service[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host, service, &hints, &result);
    if (rc != 0 || result == NULL) {
        *stage = "getaddrinfo";
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket(result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { *stage = "socket"; freeaddrinfo(result); return -1; }
    argus_set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort && argus_set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) {
        *stage = "setsockopt(SO_REUSEPORT)";
        int saved = errno; close(fd); freeaddrinfo(result); errno = saved; return -1;
    }
    if (bind(fd, result->ai_addr, result->ai_addrlen) != 0) {
        *stage = "bind";
        int saved = errno; close(fd); freeaddrinfo(result); errno = saved; return -1;
    }
    freeaddrinfo(result);
    if (listen(fd, backlog) != 0) {
        *stage = "listen";
        int saved = errno; close(fd); errno = saved; return -1;
    }
    return fd;
}
