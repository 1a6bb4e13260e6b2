package io.wakeport.acme;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A certificate for one name with its private key: what the ACME server issued, or what the
 * store read back from disk.
 *
 * @param name  the host name it was ordered for (lower case)
 * @param key   its private key
 * @param chain the leaf first, then the intermediates the server sent
 */
public record IssuedCertificate(String name, PrivateKey key, List<X509Certificate> chain) {

  public IssuedCertificate {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain needs at least its leaf");
    }
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  /** The PEM text of the chain, leaf first, as TLS servers load it. */
  public String chainPem() {
    StringBuilder b = new StringBuilder();
    for (X509Certificate c : chain) {
      b.append(Pem.encode("CERTIFICATE", Pem.der(c)));
    }
    return b.toString();
  }

  /** The PEM text of the private key (PKCS#8). */
  public String keyPem() {
    return Pem.encode("PRIVATE KEY", key.getEncoded());
  }
}
