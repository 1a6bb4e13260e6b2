package io.wakeport.accesslog;

/**
 * One answered request, as one access log line records it. Strings are as received: Vert.x gives
 * the request line and headers one char per byte, so a client's raw non-ASCII bytes arrive as
 * chars 0x80-0xFF. Nullable fields are written as {@code -} (combined) or {@code null} (JSON).
 *
 * @param time           epoch millis when the request arrived
 * @param client         the client's address (the connection's peer, or the trusted forwarded one)
 * @param method         request method
 * @param uri            request target as received, query included
 * @param protocol       {@code HTTP/1.1}, {@code HTTP/2}, …
 * @param status         status sent to the client
 * @param bytes          response body bytes sent to the client
 * @param referer        Referer header, nullable
 * @param userAgent      User-Agent header, nullable
 * @param host           Host header (or :authority), nullable
 * @param tenant         tenant that served it; null when none matched
 * @param route          instance route; null or empty for a single-instance tenant
 * @param durationMicros from arrival to the response's end, cold start included
 * @param coldStartMillis how long the request waited for its instance to start; {@link #NO_COLD_START} if it did not
 * @param requestId      nullable
 */
public record AccessEntry(
    long time,
    String client,
    String method,
    String uri,
    String protocol,
    int status,
    long bytes,
    String referer,
    String userAgent,
    String host,
    String tenant,
    String route,
    long durationMicros,
    long coldStartMillis,
    String requestId) {

  public static final long NO_COLD_START = -1;
}
