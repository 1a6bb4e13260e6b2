package io.wakeport.acme;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * Where TLS-ALPN-01 validation certificates go while their challenge is pending: the https
 * listener, which answers {@code acme-tls/1} handshakes for the name with them (RFC 8737).
 */
public interface AlpnChallengeSink {

  void put(String name, PrivateKey key, X509Certificate certificate);

  void remove(String name);

  AlpnChallengeSink NONE = new AlpnChallengeSink() {
    @Override
    public void put(String name, PrivateKey key, X509Certificate certificate) {}

    @Override
    public void remove(String name) {}
  };
}
