/*
 * Full TLS handshakes per second against one HTTPS server: CONCURRENCY connections at a time, each
 * new connection does a full handshake (a fresh SSL object, no session offered: no resumption,
 * no 0-RTT), sends one `GET PATH HTTP/1.1` with `Connection: close`, reads the response up to the
 * server's close, and is replaced by a new one, for SECONDS; connections under way then finish.
 *
 *   cc -O2 -o tls-handshakes bench/tls-handshakes.c -lssl -lcrypto      (Debian: libssl-dev)
 *   tls-handshakes --port 8443 [--host 127.0.0.1] [--sni NAME (also the Host)] [--header 'Cookie: a=b']... [--path /]
 *                  [--seconds 8] [--concurrency 32] [--tls 1.3|1.2]
 *
 * The last line it prints, for scripts:
 *   HANDSHAKES ok=N errors=N resumed=N non200=N seconds=S rate=R p50_ms=X p99_ms=Y proto=TLSv1.3
 *              cipher=TLS_AES_256_GCM_SHA384 group=x25519 key=EC-256 alpn=http/1.1
 * ok counts connections that completed a handshake and got a whole response; resumed must be 0;
 * latency is from connect() to the server's close. Pin it with taskset like wrk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { IDLE, CONNECTING, HANDSHAKE, WRITING, READING };

struct conn {
    int fd;
    SSL *ssl;
    enum state st;
    double started;
    size_t sent;
    char head[64];
    size_t head_len;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static const char *host = "127.0.0.1", *sni = NULL, *path = "/";
static char headers[768];
static int port = 0, concurrency = 32, tls12 = 0;
static double seconds = 8;
static SSL_CTX *ctx;
static struct sockaddr_in addr;
static int ep;
static char request[1024];
static size_t request_len;
static long ok, errors, resumed, non200, started_n;
static double *lat;
static size_t lat_n, lat_cap;
static char proto[32] = "-", cipher[64] = "-", group[32] = "-", key[64] = "-", alpn[32] = "-";

static void finish(struct conn *c, int good) {
    if (good) {
        if (strncmp(c->head, "HTTP/1.1 200", 12) != 0 && strncmp(c->head, "HTTP/1.0 200", 12) != 0) non200++;
        if (SSL_session_reused(c->ssl)) resumed++;
        ok++;
        if (lat_n == lat_cap) {
            lat_cap = lat_cap ? lat_cap * 2 : 65536;
            lat = realloc(lat, lat_cap * sizeof *lat);
        }
        lat[lat_n++] = now() - c->started;
        if (ok == 1) {
            snprintf(proto, sizeof proto, "%s", SSL_get_version(c->ssl));
            snprintf(cipher, sizeof cipher, "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
            const char *g = SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl));
            snprintf(group, sizeof group, "%s", g ? g : "-");
            X509 *cert = SSL_get0_peer_certificate(c->ssl);
            EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
            if (pk) snprintf(key, sizeof key, "%s-%d", EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC ? "EC" : EVP_PKEY_get0_type_name(pk), EVP_PKEY_get_bits(pk));
            const unsigned char *a; unsigned int al;
            SSL_get0_alpn_selected(c->ssl, &a, &al);
            if (al) snprintf(alpn, sizeof alpn, "%.*s", (int) al, a);
        }
    } else {
        errors++;
    }
    SSL_free(c->ssl);
    c->ssl = NULL;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->st = IDLE;
    ERR_clear_error();
}

static void arm(struct conn *c, unsigned events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void open_conn(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) { perror("socket"); exit(2); }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->started = now();
    c->sent = 0;
    c->head_len = 0;
    c->head[0] = 0;
    c->ssl = SSL_new(ctx);            /* fresh: no session to resume */
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    if (sni) SSL_set_tlsext_host_name(c->ssl, sni);
    started_n++;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (struct sockaddr *) &addr, sizeof addr) == 0 || errno == EINPROGRESS) {
        c->st = CONNECTING;
    } else {
        finish(c, 0);
    }
}

/* Drive one connection as far as it goes without blocking. */
static void step(struct conn *c) {
    for (;;) {
        int r, e;
        switch (c->st) {
        case CONNECTING: {
            int err = 0; socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) { finish(c, 0); return; }
            c->st = HANDSHAKE;
            break;
        }
        case HANDSHAKE:
            r = SSL_do_handshake(c->ssl);
            if (r == 1) { c->st = WRITING; break; }
            e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { arm(c, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { arm(c, EPOLLOUT); return; }
            finish(c, 0); return;
        case WRITING:
            r = SSL_write(c->ssl, request + c->sent, (int) (request_len - c->sent));
            if (r > 0) {
                c->sent += (size_t) r;
                if (c->sent == request_len) c->st = READING;
                break;
            }
            e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { arm(c, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { arm(c, EPOLLOUT); return; }
            finish(c, 0); return;
        case READING: {
            char buf[16384];
            r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0) {
                if (c->head_len < sizeof c->head - 1) {
                    size_t n = (size_t) r < sizeof c->head - 1 - c->head_len ? (size_t) r : sizeof c->head - 1 - c->head_len;
                    memcpy(c->head + c->head_len, buf, n);
                    c->head_len += n;
                    c->head[c->head_len] = 0;
                }
                break;
            }
            e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { arm(c, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { arm(c, EPOLLOUT); return; }
            /* close_notify or a plain EOF after the response: the server closed, as asked */
            finish(c, c->head_len > 0 && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL));
            return;
        }
        case IDLE:
            return;
        }
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (!strcmp(a, "--host")) host = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--sni")) sni = v;
        else if (!strcmp(a, "--header")) {
            size_t l = strlen(headers);
            snprintf(headers + l, sizeof headers - l, "%s\r\n", v);
        }
        else if (!strcmp(a, "--path")) path = v;
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--concurrency")) concurrency = atoi(v);
        else if (!strcmp(a, "--tls")) tls12 = !strcmp(v, "1.2");
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (port <= 0 || concurrency <= 0) { fprintf(stderr, "usage: tls-handshakes --port P [--concurrency C] [--seconds S] ...\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short) port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "--host must be an IPv4 address\n"); return 2; }
    request_len = (size_t) snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
        path, sni ? sni : host, headers);

    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);       /* self-signed; the signature is still checked */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    static const unsigned char alpn_list[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn_list, sizeof alpn_list - 1);

    ep = epoll_create1(0);
    struct conn *conns = calloc((size_t) concurrency, sizeof *conns);
    double t0 = now(), deadline = t0 + seconds, last = t0;
    for (int i = 0; i < concurrency; i++) open_conn(&conns[i]);
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        int active = 0;
        for (int i = 0; i < concurrency; i++) {
            struct conn *c = &conns[i];
            if (c->st != IDLE && t - c->started > 10) finish(c, 0);      /* stuck for 10 s */
            if (c->st == IDLE && t < deadline) open_conn(c);
            if (c->st != IDLE) active++;
        }
        if (!active) break;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            long before = ok + errors;
            step(c);
            if (ok + errors != before) {
                last = now();
                if (last < deadline) open_conn(c);
            }
        }
    }
    double elapsed = last - t0;
    qsort(lat, lat_n, sizeof *lat, cmp_double);
    double p50 = lat_n ? lat[lat_n / 2] * 1e3 : 0, p99 = lat_n ? lat[(size_t) ((double) lat_n * 0.99)] * 1e3 : 0;
    printf("HANDSHAKES ok=%ld errors=%ld resumed=%ld non200=%ld seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f proto=%s cipher=%s group=%s key=%s alpn=%s\n",
        ok, errors, resumed, non200, elapsed, elapsed > 0 ? ok / elapsed : 0, p50, p99, proto, cipher, group, key, alpn);
    return ok > 0 ? 0 : 1;
}
