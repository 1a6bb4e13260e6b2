// The floor under wakeport's warm path: the least a Vert.x 5 reverse proxy can do per request,
// with the same Vert.x, Netty and epoll transport wakeport runs on, but without vertx-http-proxy
// and without wakeport (no routing table, supervisor, leases, interceptors). It does what every
// proxy in bench/compare.sh must do: sticky on the route suffix of the `_s` cookie, Host kept,
// X-Forwarded-For/-Proto/-Host and Forwarded set, backend connections kept alive, answers read
// whole (small bodies) and written back with the backend's headers.
//
//   java -cp target/wakeport.jar bench/VertxFloor.java PORT FIRST_PORT SECOND_PORT [CERT.pem KEY.pem [openssl]]
//
// With a certificate and key it listens with TLS 1.2/1.3 (the JDK's engine, Vert.x's default) and
// ALPN h2, http/1.1, without SNI handling: the floor under wakeport's https listener. With
// `openssl` it uses Vert.x's OpenSSLEngineOptions instead, which needs netty-tcnative (BoringSSL)
// on the class path: not a wakeport dependency, bench/compare-tls.sh adds it from the local Maven
// repository when it is there, to show what the engine alone changes.
// bench/compare.sh runs it as the target "vertx-floor", in both modes; it is a measuring stick, not
// a proxy to use.

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.List;
import java.util.Map;
import java.util.Set;

public class VertxFloor {

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int first = Integer.parseInt(args[1]);
        int second = Integer.parseInt(args[2]);
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
        HttpClient client = vertx.httpClientBuilder()
            .with(new HttpClientOptions().setKeepAlive(true))
            .with(new PoolOptions().setHttp1MaxSize(256))
            .build();
        int[] next = {0};
        HttpServerOptions options = new HttpServerOptions().setHandle100ContinueAutomatically(true);
        boolean tls = args.length >= 5;
        if (tls) {
            options.setSsl(true).setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
                .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(args[3]).setKeyPath(args[4]));
            if (args.length >= 6 && args[5].equals("openssl")) {
                if (!OpenSSLEngineOptions.isAvailable()) {
                    System.err.println("vertx-floor: openssl asked for, but netty-tcnative is not on the class path");
                    System.exit(2);
                }
                options.setSslEngineOptions(new OpenSSLEngineOptions());
            }
        }
        String proto = tls ? "https" : "http";
        vertx.createHttpServer(options)
            .requestHandler(req -> forward(req, client, pick(req.getHeader(HttpHeaders.COOKIE), first, second, next), proto))
            .listen(port, "127.0.0.1")
            .onSuccess(s -> System.out.println("vertx-floor listening on 127.0.0.1:" + port
                + (vertx.isNativeTransportEnabled() ? " (epoll)" : " (NIO)") + (tls ? " with TLS (" + (options.getSslEngineOptions() instanceof OpenSSLEngineOptions ? "OpenSSL" : "JDK") + ")" : "")))
            .onFailure(e -> { e.printStackTrace(); System.exit(1); });
    }

    /** Route suffix of the `_s` cookie; a request without one is balanced round-robin. */
    static int pick(String cookie, int first, int second, int[] next) {
        if (cookie != null) {
            int at = cookie.indexOf("_s=");
            if (at >= 0) {
                int end = cookie.indexOf(';', at);
                String value = cookie.substring(at + 3, end < 0 ? cookie.length() : end);
                if (value.endsWith(".first")) {
                    return first;
                }
                if (value.endsWith(".second")) {
                    return second;
                }
            }
        }
        return (next[0]++ & 1) == 0 ? first : second;
    }

    static void forward(HttpServerRequest req, HttpClient client, int backendPort, String proto) {
        req.pause();
        HttpServerResponse out = req.response();
        String host = req.getHeader(HttpHeaders.HOST);
        client.request(new RequestOptions().setHost("127.0.0.1").setPort(backendPort)
                .setMethod(req.method()).setURI(req.uri()))
            .compose(breq -> {
                MultiMap h = breq.headers();
                for (Map.Entry<String, String> e : req.headers()) {
                    if (!e.getKey().equalsIgnoreCase("connection") && !e.getKey().equalsIgnoreCase("host")) {
                        h.add(e.getKey(), e.getValue());
                    }
                }
                if (host != null) {
                    breq.authority(req.authority());
                }
                String client_ = req.remoteAddress().hostAddress();
                h.set("x-forwarded-for", client_);
                h.set("x-forwarded-proto", proto);
                if (host != null) {
                    h.set("x-forwarded-host", host);
                }
                h.set("forwarded", "for=" + client_ + ";host=" + host + ";proto=" + proto);
                Future<io.vertx.core.http.HttpClientResponse> resp = breq.response();
                req.body().onSuccess(breq::end).onFailure(e -> breq.reset());
                req.resume();
                return resp;
            })
            .compose(resp -> {
                out.setStatusCode(resp.statusCode());
                for (Map.Entry<String, String> e : resp.headers()) {
                    if (!e.getKey().equalsIgnoreCase("connection") && !e.getKey().equalsIgnoreCase("keep-alive")) {
                        out.headers().add(e.getKey(), e.getValue());
                    }
                }
                return resp.body();
            })
            .compose(out::end)
            .onFailure(e -> {
                if (!out.headWritten()) {
                    out.setStatusCode(502).end();
                } else {
                    out.reset();
                }
            });
    }
}
