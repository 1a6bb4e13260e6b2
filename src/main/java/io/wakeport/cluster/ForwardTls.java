package io.wakeport.cluster;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.wakeport.config.ClusterSettings;
import java.util.Set;

/**
 * Mutual TLS between nodes ({@code cluster.tls}): each forward listener serves its node's
 * certificate and takes only clients with a certificate signed by the ca; each forwarding node
 * presents the same certificate and checks the owner's against the ca and the forward host it
 * connects to. TLS 1.3 only: both ends are wakeport. The files are read when the listener starts
 * and when the first connection is made: a renewed certificate takes a restart, as every cluster
 * setting does.
 */
public final class ForwardTls {

  private static final Set<String> PROTOCOLS = Set.of("TLSv1.3");

  private ForwardTls() {}

  /** {@code options} with mutual TLS, or as they are without {@code tls}. */
  public static HttpServerOptions serve(HttpServerOptions options, ClusterSettings.Tls tls) {
    if (tls == null) {
      return options;
    }
    return options.setSsl(true).setUseAlpn(false).setSni(false)
        .setKeyCertOptions(keyCert(tls))
        .setTrustOptions(new PemTrustOptions().addCertPath(tls.ca().toString()))
        .setClientAuth(ClientAuth.REQUIRED)
        .setEnabledSecureTransportProtocols(PROTOCOLS);
  }

  /**
   * The client side, or null without {@code tls}. Made once per node and handed out as that one
   * instance: Vert.x keys connection pools by {@code ClientSSLOptions.equals}, and a fresh but
   * equal copy per request would cost a lookup for nothing.
   */
  static ClientSSLOptions client(ClusterSettings.Tls tls) {
    if (tls == null) {
      return null;
    }
    return new ClientSSLOptions()
        .setKeyCertOptions(keyCert(tls))
        .setTrustOptions(new PemTrustOptions().addCertPath(tls.ca().toString()))
        .setHostnameVerificationAlgorithm("HTTPS")
        .setEnabledSecureTransportProtocols(PROTOCOLS);
  }

  private static PemKeyCertOptions keyCert(ClusterSettings.Tls tls) {
    return new PemKeyCertOptions().setCertPath(tls.cert().toString()).setKeyPath(tls.key().toString());
  }
}
