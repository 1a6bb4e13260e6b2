package io.wakeport.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK engine with {@code acme-tls/1} (RFC 8737) offered beside the HTTP protocols, so an ACME
 * server's TLS-ALPN-01 validation can negotiate it. Vert.x's HTTP server sets the ALPN list from
 * its {@code HttpVersion}s alone, so the protocol is added where the Netty context is built. A
 * connection that negotiates it is answered with the challenge certificate ({@link SniKeyManager})
 * and is closed by the validator after the handshake.
 */
final class AcmeTlsEngineOptions extends JdkSSLEngineOptions {

  static final String ACME_TLS_1 = "acme-tls/1";

  AcmeTlsEngineOptions() {}

  AcmeTlsEngineOptions(AcmeTlsEngineOptions that) {
    super(that);
  }

  @Override
  public AcmeTlsEngineOptions setUseWorkerThread(boolean useWorkerThread) {
    super.setUseWorkerThread(useWorkerThread);
    return this;
  }

  @Override
  public AcmeTlsEngineOptions copy() {
    return new AcmeTlsEngineOptions(this);
  }

  @Override
  public SslContextFactory sslContextFactory() {
    SslContextFactory inner = super.sslContextFactory();
    return new SslContextFactory() {
      @Override
      public SslContextFactory useAlpn(boolean useAlpn) {
        inner.useAlpn(useAlpn);
        return this;
      }

      @Override
      public SslContextFactory clientAuth(ClientAuth clientAuth) {
        inner.clientAuth(clientAuth);
        return this;
      }

      @Override
      public SslContextFactory forClient(boolean forClient) {
        inner.forClient(forClient);
        return this;
      }

      @Override
      public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
        inner.keyMananagerFactory(kmf);
        return this;
      }

      @Override
      public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
        inner.trustManagerFactory(tmf);
        return this;
      }

      @Override
      public SslContextFactory enabledCipherSuites(Set<String> enabledCipherSuites) {
        inner.enabledCipherSuites(enabledCipherSuites);
        return this;
      }

      @Override
      public SslContextFactory applicationProtocols(List<String> applicationProtocols) {
        List<String> with = new ArrayList<>(applicationProtocols == null ? List.of() : applicationProtocols);
        if (!with.isEmpty() && !with.contains(ACME_TLS_1)) {
          with.add(ACME_TLS_1); // last: a client offering h2 or http/1.1 as well never gets it
        }
        inner.applicationProtocols(with);
        return this;
      }

      @Override
      public SslContextFactory serverName(String serverName) {
        inner.serverName(serverName);
        return this;
      }

      @Override
      public SslContext create() throws SSLException {
        return inner.create();
      }
    };
  }
}
