package io.wakeport.health;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.wakeport.config.RemoteMember;

/**
 * The TLS options of a connection to a remote member over {@code https://}: the JVM's trusted
 * certificates and a host name check, the PEM file of {@code tls.ca} instead, or with
 * {@code verify: false} any certificate (a lab's self-signed one), unchecked.
 */
public final class BackendTls {

  private BackendTls() {}

  /** Null for a member without TLS. Made from the config alone, so equal configs give equal options (one pool). */
  public static ClientSSLOptions options(RemoteMember member) {
    if (!member.tls()) {
      return null;
    }
    ClientSSLOptions options = new ClientSSLOptions();
    if (!member.verify()) {
      return options.setTrustAll(true).setHostnameVerificationAlgorithm("");
    }
    options.setHostnameVerificationAlgorithm("HTTPS");
    if (member.ca() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(member.ca().toString()));
    }
    return options;
  }
}
