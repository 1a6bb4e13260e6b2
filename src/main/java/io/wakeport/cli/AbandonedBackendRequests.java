package io.wakeport.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Turns Vert.x's ERROR "Stream reset: 0" for a client that left mid-upload into a debug line.
 *
 * <p>Vert.x logs at ERROR, through {@value #VERTX_LOGGER}, the failure of any client request that
 * has no exception handler and has not sent all its body. The proxy's backend requests have none,
 * and the proxy resets one when the client goes away while its body is still being relayed, so every
 * upload a client abandoned printed an ERROR. The failure also reaches wakeport's forwarding code,
 * which logs it itself (debug when the client left, warn when the backend failed): Vert.x's line
 * is a duplicate, so it is kept for debugging only. Installed by logback.xml.
 */
public final class AbandonedBackendRequests extends TurboFilter {

  static final String VERTX_LOGGER = "io.vertx.core.http.impl.HttpClientRequestImpl";
  private static final org.slf4j.Logger demoted = LoggerFactory.getLogger(AbandonedBackendRequests.class);

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    // Called for every log call and level check: the level test comes first, as it is the cheapest.
    if (level != Level.ERROR || !VERTX_LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    demoted.debug("backend request abandoned before its body was sent: {}", format, t);
    return FilterReply.DENY;
  }
}
