package io.wakeport.config;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How long a tenant's instances live and how failures are treated.
 *
 * @param idleTimeout       stop after this long without requests; {@link Duration#ZERO} keeps it running
 * @param ignorePaths       path tokens whose requests never keep the tenant awake nor start it
 * @param ignoreUserAgents  User-Agent patterns (found anywhere in the header) with the same effect
 * @param ignoreStatus      answer to ignored requests while the tenant is not running
 * @param stopSignal        first signal of a graceful stop (TERM, INT, HUP, QUIT, USR1, USR2)
 * @param stopGrace         how long to wait after it before KILL
 * @param backoffFailures   this many failed starts or crashes within {@code backoffWindow} ...
 * @param backoffWindow     ... put the tenant into backoff
 * @param backoffInitial    first backoff; doubled each time the loop goes on
 * @param backoffMax        longest backoff
 * @param maxQueue          requests that may wait for one instance to start; more get 503
 * @param queueTimeout      longest a request waits for a start
 * @param minRunning        instances kept running from wakeport's start, never idle-stopped
 * @param logMaxBytes       size at which a backend's log is rotated to {@code <name>.log.1}
 * @param restartOnChange   when the launch command changes: replace running instances at once, one at a
 *                          time once idle of requests (true), or at their next idle stop (false)
 * @param limits            memory, CPU and processes all of one instance's processes may use
 * @param refuseForeignListener a listener on the tenant's port that wakeport did not start, even one of
 *                          wakeport's own user, gets no traffic (503) instead of being used
 */
public record SupervisionPolicy(
    Duration idleTimeout,
    List<String> ignorePaths,
    List<Pattern> ignoreUserAgents,
    int ignoreStatus,
    String stopSignal,
    Duration stopGrace,
    int backoffFailures,
    Duration backoffWindow,
    Duration backoffInitial,
    Duration backoffMax,
    int maxQueue,
    Duration queueTimeout,
    int minRunning,
    long logMaxBytes,
    boolean restartOnChange,
    ResourceLimits limits,
    boolean refuseForeignListener) {

  public SupervisionPolicy {
    ignorePaths = List.copyOf(ignorePaths);
    ignoreUserAgents = List.copyOf(ignoreUserAgents);
  }

  public static SupervisionPolicy defaults() {
    return new SupervisionPolicy(Duration.ofMinutes(15), List.of(), List.of(), 503, "TERM", Duration.ofSeconds(10),
        3, Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofMinutes(5), 100, Duration.ofSeconds(60), 0,
        10L * 1024 * 1024, false, ResourceLimits.NONE, false);
  }

  public boolean hasIgnoreRule() {
    return !ignorePaths.isEmpty() || !ignoreUserAgents.isEmpty();
  }

  /** Whether a request with this path and User-Agent must neither start the tenant nor keep it awake. */
  public boolean ignores(String path, String userAgent) {
    if (!ignorePaths.isEmpty() && path != null) {
      for (String token : ignorePaths) {
        if (path.startsWith(token) && (path.length() == token.length() || path.charAt(token.length()) == '/')) {
          return true;
        }
      }
    }
    if (!ignoreUserAgents.isEmpty() && userAgent != null) {
      for (Pattern p : ignoreUserAgents) {
        if (p.matcher(userAgent).find()) {
          return true;
        }
      }
    }
    return false;
  }
}
