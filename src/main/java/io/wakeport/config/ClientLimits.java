package io.wakeport.config;

import java.time.Duration;

/**
 * What one client may hold of the front port and for how long, in the spirit of nginx's
 * {@code client_header_timeout}, {@code keepalive_timeout}, {@code client_body_timeout} and
 * {@code large_client_header_buffers}, and HAProxy's {@code timeout http-request} and
 * {@code maxconn}.
 *
 * @param headerTimeout          from a request's first byte (or the connection's accept) to its whole head; then 408
 * @param keepAliveTimeout       an idle connection between requests is closed after this
 * @param bodyTimeout            longest pause while a request body is being read; then 408
 * @param sendTimeout            longest time a client may take none of an answer it is sent; then the connection closes
 * @param maxConnections         front connections at once, all clients together; 0 means derived from the fd limit
 * @param maxConnectionsPerClient front connections at once from one client address; 0 means no limit, -1 the default
 *                               (256, or a quarter of the connection cap when that is less)
 * @param maxRequestLine         request line; longer gets 414
 * @param maxHeaderLine          one header field (name and value); longer gets 431
 * @param maxRequestHeaders      all request header fields together; more gets 431
 * @param maxResponseHeaders     all of a backend's response header fields together; more gets 502
 * @param maxRequestBody         a request body's bytes; more gets 413 (nginx's {@code client_max_body_size}); 0 means no limit
 */
public record ClientLimits(
    Duration headerTimeout,
    Duration keepAliveTimeout,
    Duration bodyTimeout,
    Duration sendTimeout,
    int maxConnections,
    int maxConnectionsPerClient,
    int maxRequestLine,
    int maxHeaderLine,
    int maxRequestHeaders,
    int maxResponseHeaders,
    long maxRequestBody) {

  public static ClientLimits defaults() {
    return new ClientLimits(Duration.ofSeconds(10), Duration.ofSeconds(75), Duration.ofSeconds(60),
        Duration.ofSeconds(60), 0, -1,
        8 * 1024, 8 * 1024, 64 * 1024, 64 * 1024, 0);
  }

  /**
   * The connection cap in force: the configured one, or else what the process's file descriptor
   * limit leaves after a reserve for backends, logs and pipes (each proxied connection may also
   * hold one to its backend, hence the half).
   */
  public int effectiveMaxConnections(long fdLimit) {
    if (maxConnections > 0) {
      return maxConnections;
    }
    long reserve = Math.max(64, fdLimit / 8);
    return (int) Math.max(16, Math.min(1_000_000, (fdLimit - reserve) / 2));
  }

  /**
   * The per-client cap in force: the configured one, or by default 256, but never more than a
   * quarter of {@code maxTotal}: under a low fd limit one address must not take every slot.
   */
  public int effectiveMaxConnectionsPerClient(int maxTotal) {
    if (maxConnectionsPerClient >= 0) {
      return maxConnectionsPerClient;
    }
    return Math.max(1, Math.min(256, maxTotal / 4));
  }
}
