package io.wakeport.acme;

import io.wakeport.tls.CertificateRegistry;
import io.wakeport.tls.HttpChallengeResponder;
import io.wakeport.tls.ServedCertificate;
import java.util.List;

/** The seams between ACME and the https listener: the registry as a sink, the tokens as the challenge responder. */
public final class AcmeCertificates {

  private AcmeCertificates() {}

  static ServedCertificate served(IssuedCertificate c) {
    return ServedCertificate.of(List.of(c.name()), c.key(), c.chain(), "acme");
  }

  /** Puts each certificate the service gets into {@code registry}, for its one name. */
  public static CertificateSink into(CertificateRegistry registry) {
    return c -> registry.put(served(c));
  }

  /** Serves TLS-ALPN-01 validation certificates on the https listeners while their challenge is pending. */
  public static AlpnChallengeSink alpnInto(CertificateRegistry registry) {
    return new AlpnChallengeSink() {
      @Override
      public void put(String name, java.security.PrivateKey key, java.security.cert.X509Certificate certificate) {
        registry.putAlpnChallenge(ServedCertificate.of(List.of(name), key, List.of(certificate), "acme-tls/1"));
      }

      @Override
      public void remove(String name) {
        registry.removeAlpnChallenge(name);
      }
    };
  }

  /** Answers HTTP-01 challenges on the plain listener from {@code tokens}. */
  public static HttpChallengeResponder responder(Http01Tokens tokens) {
    return (host, token) -> tokens.keyAuthorization(token);
  }
}
