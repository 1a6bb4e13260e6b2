package io.wakeport.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Certificates from an ACME (RFC 8555) server for the hosts no static certificate covers
 * ({@code https: {acme: ...}}). Read by {@code AcmeSection}; used by {@code io.wakeport.acme}.
 *
 * @param directory        the server's directory URL (Let's Encrypt's, or Pebble's in tests)
 * @param email            the account's contact; null: none
 * @param trust            a PEM file of CA certificates to trust for the ACME server itself (besides
 *                         the JDK's); null: the JDK's only
 * @param renewBefore      renew at the latest this long before a certificate expires (also at two
 *                         thirds of its validity, whichever comes first)
 * @param maxAttemptsPerHour orders for one name within any hour, counted across restarts; a name
 *                         past it waits for the oldest attempt to leave the hour
 * @param onDemand         issuance at the first handshake for template tenants' names; null: off
 * @param challenge        the validation asked for: http-01 (the default) or tls-alpn-01
 * @param stateDir         wakeport's state dir: ACME keeps its files under {@code acme/} there ({@link #acmeDir})
 */
public record AcmeSettings(URI directory, String email, Path trust, Duration renewBefore, int maxAttemptsPerHour,
    OnDemand onDemand, Challenge challenge, Path stateDir) {

  /** How the ACME server validates a name: over the plain listener (port 80) or the https one (port 443). */
  public enum Challenge {
    HTTP_01("http-01"), TLS_ALPN_01("tls-alpn-01");

    public final String type;

    Challenge(String type) {
      this.type = type;
    }
  }

  public static final Duration DEFAULT_RENEW_BEFORE = Duration.ofDays(30);
  public static final int DEFAULT_MAX_ATTEMPTS_PER_HOUR = 5;

  /**
   * On-demand issuance for names of template tenants, as Caddy's on_demand_tls: a name is
   * allowed only when its label passes the template's {@code exists} gate or {@code ask} answers
   * 2xx for {@code ?domain=NAME}.
   *
   * @param ask  an http(s) URL asked about each new name; null: only the {@code exists} gate decides
   * @param maxWait how long a handshake waits for its certificate, then gets the default one while the
   *                order goes on; by default, and at most, half the TLS handshake timeout
   */
  public record OnDemand(URI ask, Duration maxWait) {}

  /** The same settings with another directory (tests point one config at a server they started). */
  public AcmeSettings withDirectory(URI other) {
    return new AcmeSettings(other, email, trust, renewBefore, maxAttemptsPerHour, onDemand, challenge, stateDir);
  }

  /**
   * The directory the account key, certificates and attempt times are kept in: one per ACME server
   * ({@code <state-dir>/acme/<host>[_<port>]}), so that moving from a staging server to the real
   * one never serves a staging certificate, and each server has its own account.
   */
  public Path acmeDir() {
    String server = directory.getHost().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "_")
        + (directory.getPort() > 0 ? "_" + directory.getPort() : "");
    return stateDir.resolve("acme").resolve(server);
  }
}
