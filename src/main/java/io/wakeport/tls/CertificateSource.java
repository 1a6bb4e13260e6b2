package io.wakeport.tls;

import java.nio.file.Path;
import java.util.List;

/**
 * One {@code https.certificates} entry: a PEM certificate chain and its key, served for {@code hosts}.
 *
 * @param hosts exact names and {@code *.} wildcards (one label), normalized
 * @param cert  absolute path of the PEM chain, leaf first
 * @param key   absolute path of the PEM private key (PKCS#8, or PKCS#1 RSA, or SEC1 EC)
 */
public record CertificateSource(List<String> hosts, Path cert, Path key) {

  public CertificateSource {
    hosts = hosts.stream().map(ServedCertificate::normalize).toList();
  }
}
