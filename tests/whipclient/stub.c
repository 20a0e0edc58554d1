/*
 * Loopback-only shim for Debian 12's simple-whip-client (GStreamer webrtcbin + libnice).
 *
 * Built as ONE shared object with the soname libgupnp-igd-1.0.so.4 and loaded with
 * LD_PRELOAD (and, belt and braces, first on LD_LIBRARY_PATH under that name):
 *
 * 1. UPnP IGD no-ops. libnice links libgupnp-igd, which pulls gupnp-1.6 and libsoup3;
 *    whip-client links libsoup2, and libsoup aborts when both are in one process.
 *    Because this object is already loaded under the soname libnice asks for, the
 *    dynamic linker never maps the real library (nor gupnp/libsoup3). libnice treats a
 *    NULL from gupnp_simple_igd_thread_new() as "no UPnP" and carries on.
 *
 * 2. Loopback interface list. libnice gathers host candidates from getifaddrs() and
 *    skips interfaces flagged IFF_LOOPBACK. Our getifaddrs() reports a single interface
 *    "lo" with 127.0.0.1/8, flagged up and running but not loopback, so libnice gathers
 *    exactly one host address: 127.0.0.1.
 *
 * 3. Socket guard. bind() on any IPv4 address outside 127.0.0.0/8 is rewritten to
 *    127.0.0.1 (IPv6 to ::1), keeping the port. connect(), sendto(), sendmsg() and
 *    sendmmsg() towards anything that is not loopback fail with ENETUNREACH and print
 *    "whipstub: blocked ..." on stderr, so no packet can leave the loopback interface
 *    even if a server hands out other candidates. WHIPSTUB_VERBOSE=1 logs every bind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ UPnP IGD no-ops */

/* G_TYPE_OBJECT is fundamental type 20, i.e. (20 << 2). Nothing instantiates it here. */
EXPORT unsigned long gupnp_simple_igd_get_type(void) { return 20UL << 2; }
EXPORT unsigned long gupnp_simple_igd_thread_get_type(void) { return 20UL << 2; }
EXPORT void *gupnp_simple_igd_new(void) { return NULL; }
EXPORT void *gupnp_simple_igd_thread_new(void) { return NULL; }
EXPORT void gupnp_simple_igd_add_port(void *self, const char *protocol,
                                      unsigned int external_port, const char *local_ip,
                                      unsigned int local_port, unsigned int lease_duration,
                                      const char *description) {
    (void)self; (void)protocol; (void)external_port; (void)local_ip;
    (void)local_port; (void)lease_duration; (void)description;
}
EXPORT void gupnp_simple_igd_remove_port(void *self, const char *protocol,
                                         unsigned int external_port) {
    (void)self; (void)protocol; (void)external_port;
}
EXPORT void gupnp_simple_igd_remove_port_local(void *self, const char *protocol,
                                               const char *local_ip, unsigned int local_port) {
    (void)self; (void)protocol; (void)local_ip; (void)local_port;
}
EXPORT void gupnp_simple_igd_delete_all_mappings(void *self) { (void)self; }
EXPORT unsigned int gupnp_simple_igd_error_quark(void) { return 0; }

/* ------------------------------------------------------------------ helpers */

static int verbose(void) {
    const char *v = getenv("WHIPSTUB_VERBOSE");
    return v != NULL && *v != '\0' && *v != '0';
}

static void describe(const struct sockaddr *sa, char *out, size_t len) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, len, "%s port %u", host, port);
}

static int is_loopback_v4(const struct in_addr *a) {
    return (ntohl(a->s_addr) >> 24) == 127;
}

static int is_loopback_v6(const struct in6_addr *a) {
    if (IN6_IS_ADDR_LOOPBACK(a))
        return 1;
    if (IN6_IS_ADDR_V4MAPPED(a))
        return a->s6_addr[12] == 127;
    return 0;
}

/* Is a destination allowed? Anything that is not IPv4/IPv6 (unix, netlink, AF_UNSPEC
 * "disconnect") is left alone. */
static int destination_allowed(const struct sockaddr *sa, socklen_t len) {
    if (sa == NULL)
        return 1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        return is_loopback_v4(&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        return is_loopback_v6(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 1;
}

static int refuse(const char *what, const struct sockaddr *sa) {
    char buf[96];
    describe(sa, buf, sizeof buf);
    fprintf(stderr, "whipstub: blocked %s to %s (not loopback)\n", what, buf);
    errno = ENETUNREACH;
    return -1;
}

static void *real(const char *name) {
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn == NULL) {
        fprintf(stderr, "whipstub: cannot resolve %s\n", name);
        abort();
    }
    return fn;
}

/* ------------------------------------------------------------------ interface list */

struct fake_ifaddrs {
    struct ifaddrs ifa;
    struct sockaddr_in addr;
    struct sockaddr_in mask;
    char name[IFNAMSIZ];
};

EXPORT int getifaddrs(struct ifaddrs **ifap) {
    struct fake_ifaddrs *f = calloc(1, sizeof *f);
    if (f == NULL) {
        errno = ENOMEM;
        return -1;
    }
    strcpy(f->name, "lo");
    f->addr.sin_family = AF_INET;
    f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->mask.sin_family = AF_INET;
    f->mask.sin_addr.s_addr = htonl(0xff000000u);
    f->ifa.ifa_next = NULL;
    f->ifa.ifa_name = f->name;
    /* Deliberately not IFF_LOOPBACK: libnice skips loopback interfaces. */
    f->ifa.ifa_flags = IFF_UP | IFF_RUNNING;
    f->ifa.ifa_addr = (struct sockaddr *)&f->addr;
    f->ifa.ifa_netmask = (struct sockaddr *)&f->mask;
    *ifap = &f->ifa;
    return 0;
}

EXPORT void freeifaddrs(struct ifaddrs *ifa) {
    /* Both ours and glibc's lists are one allocation starting at the first entry. */
    free(ifa);
}

/* ------------------------------------------------------------------ sockets */

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*sendmmsg_fn)(int, struct mmsghdr *, unsigned int, int);

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len) {
    static bind_fn next;
    if (next == NULL)
        next = (bind_fn)real("bind");

    if (sa != NULL && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in = *(const struct sockaddr_in *)sa;
        if (!is_loopback_v4(&in.sin_addr))
            in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (verbose()) {
            char buf[96];
            describe((struct sockaddr *)&in, buf, sizeof buf);
            fprintf(stderr, "whipstub: bind %s\n", buf);
        }
        return next(fd, (struct sockaddr *)&in, sizeof in);
    }
    if (sa != NULL && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6 = *(const struct sockaddr_in6 *)sa;
        if (!is_loopback_v6(&in6.sin6_addr)) {
            in6.sin6_addr = in6addr_loopback;
            in6.sin6_scope_id = 0;
        }
        if (verbose()) {
            char buf[96];
            describe((struct sockaddr *)&in6, buf, sizeof buf);
            fprintf(stderr, "whipstub: bind %s\n", buf);
        }
        return next(fd, (struct sockaddr *)&in6, sizeof in6);
    }
    return next(fd, sa, len);
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len) {
    static connect_fn next;
    if (next == NULL)
        next = (connect_fn)real("connect");
    if (!destination_allowed(sa, len))
        return refuse("connect", sa);
    return next(fd, sa, len);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *sa, socklen_t len) {
    static sendto_fn next;
    if (next == NULL)
        next = (sendto_fn)real("sendto");
    if (!destination_allowed(sa, len))
        return refuse("sendto", sa);
    return next(fd, buf, n, flags, sa, len);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    static sendmsg_fn next;
    if (next == NULL)
        next = (sendmsg_fn)real("sendmsg");
    if (msg != NULL && !destination_allowed(msg->msg_name, msg->msg_namelen))
        return refuse("sendmsg", msg->msg_name);
    return next(fd, msg, flags);
}

EXPORT int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags) {
    static sendmmsg_fn next;
    unsigned int ok = 0;
    if (next == NULL)
        next = (sendmmsg_fn)real("sendmmsg");
    /* Send the allowed prefix; report the first refused message as the error. */
    while (ok < vlen && destination_allowed(msgs[ok].msg_hdr.msg_name,
                                            msgs[ok].msg_hdr.msg_namelen))
        ok++;
    if (ok == 0 && vlen > 0)
        return refuse("sendmmsg", msgs[0].msg_hdr.msg_name);
    return next(fd, msgs, ok, flags);
}
