package io.wakeport.acme;

/**
 * Where issued certificates go to be served: the https listener's certificate registry. Called
 * on a Vert.x context; must not block.
 */
@FunctionalInterface
public interface CertificateSink {

  void put(IssuedCertificate certificate);

  CertificateSink NONE = c -> {};
}
