package io.wakeport.tls;

import io.vertx.core.net.SocketAddress;
import java.util.List;

/**
 * What the front server needs to serve https beside plain HTTP: the https listen addresses and the
 * certificates (fixed until a restart), and what a config reload may change live: whether the
 * plain listener redirects, the {@code Strict-Transport-Security} value, and who answers ACME
 * HTTP-01 challenges. Read on the event loops; changed from other threads.
 */
public final class HttpsFront {

  private final List<SocketAddress> listen;
  private final CertificateRegistry registry;
  private final OnDemandCertificates onDemand;
  private volatile boolean redirect;
  private volatile String hsts;
  private volatile HttpChallengeResponder challenges = HttpChallengeResponder.NONE;

  /**
   * @param listen   host and port of each https listener; the first one's port is the redirects'
   * @param redirect whether the plain listener answers 308 to https
   * @param hsts     the {@code Strict-Transport-Security} value for https answers, or null for none
   */
  public HttpsFront(List<SocketAddress> listen, CertificateRegistry registry, OnDemandCertificates onDemand,
      boolean redirect, String hsts) {
    if (listen.isEmpty()) {
      throw new IllegalArgumentException("https needs at least one listen address");
    }
    this.listen = List.copyOf(listen);
    this.registry = registry;
    this.onDemand = onDemand;
    this.redirect = redirect;
    this.hsts = hsts;
  }

  public List<SocketAddress> listen() {
    return listen;
  }

  public CertificateRegistry registry() {
    return registry;
  }

  public OnDemandCertificates onDemand() {
    return onDemand;
  }

  public boolean redirect() {
    return redirect;
  }

  /** The port redirects name: the first https listener's. */
  public int redirectPort() {
    return listen.get(0).port();
  }

  public String hsts() {
    return hsts;
  }

  public HttpChallengeResponder challenges() {
    return challenges;
  }

  /** Who answers {@code /.well-known/acme-challenge/} on the plain listener from now on. */
  public void challenges(HttpChallengeResponder responder) {
    this.challenges = responder == null ? HttpChallengeResponder.NONE : responder;
  }

  /** A reloaded config's redirect and HSTS settings, for the next request. */
  public void update(boolean redirect, String hsts) {
    this.redirect = redirect;
    this.hsts = hsts;
  }
}
