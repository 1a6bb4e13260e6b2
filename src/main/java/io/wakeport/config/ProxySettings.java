package io.wakeport.config;

import java.time.Duration;

/**
 * How requests are forwarded to backends.
 *
 * @param maxConnectionsPerBackend HTTP/1 pool size per backend and event loop (vertx-http-proxy's default is 5)
 * @param connectTimeout           time allowed to open a connection to a ready backend
 * @param preserveHost             send the client's Host header to the backend (as Apache's ProxyPreserveHost)
 * @param trustForwardedHeaders    keep and extend incoming X-Forwarded-* / Forwarded (only behind another proxy)
 * @param eventLoops               event loops serving the front port
 * @param h2c                      accept cleartext HTTP/2 (prior knowledge or upgrade) on the front port
 * @param client                   timeouts and limits for front connections
 */
public record ProxySettings(
    int maxConnectionsPerBackend,
    Duration connectTimeout,
    boolean preserveHost,
    boolean trustForwardedHeaders,
    int eventLoops,
    boolean h2c,
    ClientLimits client) {

  public static ProxySettings defaults() {
    return new ProxySettings(256, Duration.ofSeconds(5), true, false, Runtime.getRuntime().availableProcessors(),
        false, ClientLimits.defaults());
  }
}
