package io.wakeport.health;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.wakeport.config.RemoteMember;

/**
 * The TLS options of a connection to a remote member over {@code https://}: the JVM's trusted
 * certificates and a host name check, the PEM file of {@code tls.ca} instead, or with
 * {@code verify: false} any certificate (a lab's self-signed one), unchecked.
 */
public final class BackendTls {

  /**
   * Trusts any certificate. One instance, for a reason: Vert.x keys its connection pools (and TLS
   * contexts) by {@code ClientSSLOptions.equals}, which ignores {@code trustAll} and the host name
   * check, so {@code setTrustAll(true)} would share pooled connections with a verifying member at
   * the same address. A trust manager of its own is part of that key.
   */
  private static final TrustOptions ANY =
      TrustOptions.wrap(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE);

  private BackendTls() {}

  /** Null for a member without TLS. Made from the config alone, so equal configs give equal options (one pool). */
  public static ClientSSLOptions options(RemoteMember member) {
    if (!member.tls()) {
      return null;
    }
    ClientSSLOptions options = new ClientSSLOptions();
    if (!member.verify()) {
      return options.setTrustOptions(ANY).setHostnameVerificationAlgorithm("");
    }
    options.setHostnameVerificationAlgorithm("HTTPS");
    if (member.ca() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(member.ca().toString()));
    }
    return options;
  }
}
