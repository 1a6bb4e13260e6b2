package io.wakeport.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A certificate wakeport serves: the names it is chosen for, its key and chain, when it runs out,
 * and where it came from (a file pair, or whatever put it in the registry at run time). Immutable.
 *
 * @param hosts    names it is chosen for by SNI: exact names, or {@code *.example.com} for one label
 * @param chain    leaf first
 * @param notAfter the leaf's expiry
 * @param source   for logs: {@code certs/acme.crt}, {@code acme}, …
 */
public record ServedCertificate(List<String> hosts, PrivateKey key, List<X509Certificate> chain, Instant notAfter,
    String source) {

  public ServedCertificate {
    hosts = hosts.stream().map(ServedCertificate::normalize).distinct().toList();
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain needs at least its leaf");
    }
    if (key == null) {
      throw new IllegalArgumentException("a served certificate needs its private key");
    }
  }

  /** {@code hosts} with the leaf's expiry as {@code notAfter}. */
  public static ServedCertificate of(List<String> hosts, PrivateKey key, List<X509Certificate> chain, String source) {
    return new ServedCertificate(hosts, key, chain, chain.get(0).getNotAfter().toInstant(), source);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** A server name as SNI and Host compare it: lower case, without a trailing dot. */
  public static String normalize(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  /**
   * Whether {@code pattern} (a name, or {@code *.suffix} for exactly one more label) covers
   * {@code name}, as RFC 6125 matches a certificate's DNS names; both already normalized.
   */
  public static boolean covers(String pattern, String name) {
    if (pattern.equals(name)) {
      return true;
    }
    if (!pattern.startsWith("*.") || name.startsWith("*.")) {
      return false;
    }
    int dot = name.indexOf('.');
    return dot > 0 && name.substring(dot + 1).equals(pattern.substring(2));
  }

  @Override
  public String toString() {
    return source + " " + hosts + " (not after " + notAfter + ")";
  }
}
