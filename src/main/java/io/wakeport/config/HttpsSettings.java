package io.wakeport.config;

import io.wakeport.tls.CertificateSource;
import java.time.Duration;
import java.util.List;

/**
 * The {@code https:} section: TLS listeners beside the plain one, serving the same tenants.
 *
 * @param listen       one or more addresses; none when the section is absent (https off)
 * @param certificates static PEM pairs chosen by SNI, the first one the default
 * @param redirect     the plain listener answers 308 to https (but ACME HTTP-01 challenges)
 * @param hsts         the Strict-Transport-Security header of https answers, or null for none
 */
public record HttpsSettings(List<Listen> listen, List<CertificateSource> certificates, boolean redirect, Hsts hsts) {

  public HttpsSettings {
    listen = List.copyOf(listen);
    certificates = List.copyOf(certificates);
  }

  /** One https listener's address. */
  public record Listen(String host, int port) {
    @Override
    public String toString() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** RFC 6797's header: how long browsers remember to use https only, for subdomains too, preload-listed. */
  public record Hsts(Duration maxAge, boolean includeSubdomains, boolean preload) {
    public String header() {
      return "max-age=" + maxAge.toSeconds() + (includeSubdomains ? "; includeSubDomains" : "") + (preload ? "; preload" : "");
    }
  }

  public static HttpsSettings off() {
    return new HttpsSettings(List.of(), List.of(), false, null);
  }

  public boolean enabled() {
    return !listen.isEmpty();
  }

  /** The header value, or null without {@code hsts}. */
  public String hstsHeader() {
    return hsts == null ? null : hsts.header();
  }
}
