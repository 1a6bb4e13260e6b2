package io.wakeport.tls;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.impl.KeyStoreHelper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.security.auth.x500.X500Principal;

/**
 * Reads a PEM certificate chain and key into a {@link ServedCertificate}, refusing what could not
 * be served as configured: an unreadable file, a key that is not the certificate's, a configured
 * host the certificate does not name. Blocking file I/O: never on an event loop.
 */
public final class CertificateFiles {

  /** Expiry closer than this is worth a warning (Let's Encrypt renews at 30 days left). */
  public static final Duration EXPIRY_WARNING = Duration.ofDays(21);

  private CertificateFiles() {}

  public static ServedCertificate load(CertificateSource source) throws CertificateFileException {
    List<X509Certificate> chain = readChain(source.cert());
    PrivateKey key = readKey(source.key(), source.cert(), chain);
    if (!matches(key, chain.get(0).getPublicKey())) {
      throw new CertificateFileException(source.key(), "is not the key of the certificate in " + source.cert());
    }
    List<String> names = names(chain.get(0));
    for (String host : source.hosts()) {
      if (names.stream().noneMatch(n -> ServedCertificate.covers(n, host))) {
        throw new CertificateFileException(source.cert(), "does not cover " + host + " (it names " + names + ")");
      }
    }
    return ServedCertificate.of(source.hosts(), key, chain, source.cert().getFileName().toString());
  }

  /** What an operator should hear about a loaded certificate at {@code now}: expired, or expiring soon. */
  public static String expiryWarning(ServedCertificate certificate, Instant now) {
    X509Certificate leaf = certificate.leaf();
    if (leaf.getNotBefore().toInstant().isAfter(now)) {
      return "is not valid before " + leaf.getNotBefore().toInstant();
    }
    if (!certificate.notAfter().isAfter(now)) {
      return "expired at " + certificate.notAfter();
    }
    Duration left = Duration.between(now, certificate.notAfter());
    if (left.compareTo(EXPIRY_WARNING) < 0) {
      return "expires in " + (left.toHours() + 23) / 24 + " days, at " + certificate.notAfter();
    }
    return null;
  }

  /** The DNS names a leaf certificate is valid for: its subjectAltName DNS entries, else its CN. */
  public static List<String> names(X509Certificate leaf) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> alternatives = leaf.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> entry : alternatives) {
          if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0)) && entry.get(1) instanceof String dns) {
            names.add(ServedCertificate.normalize(dns));
          }
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      // unreadable extension: fall back to the subject
    }
    if (names.isEmpty()) {
      for (String part : leaf.getSubjectX500Principal().getName(X500Principal.RFC2253).split(",")) {
        if (part.startsWith("CN=")) {
          names.add(ServedCertificate.normalize(part.substring(3)));
        }
      }
    }
    return names;
  }

  /**
   * Why {@code chain} (leaf first) does not lead to one of {@code authorities}, or null when it
   * does: signatures, validity dates and CA constraints, as a TLS peer trusting only them checks it.
   */
  public static String untrusted(List<X509Certificate> chain, List<X509Certificate> authorities) {
    try {
      java.util.Set<java.security.cert.TrustAnchor> anchors = new java.util.HashSet<>();
      for (X509Certificate authority : authorities) {
        anchors.add(new java.security.cert.TrustAnchor(authority, null));
      }
      java.security.cert.PKIXParameters parameters = new java.security.cert.PKIXParameters(anchors);
      parameters.setRevocationEnabled(false);
      List<X509Certificate> path = chain.stream().filter(c -> !authorities.contains(c)).toList();
      java.security.cert.CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
      return null;
    } catch (Exception e) {
      return message(e);
    }
  }

  /** Whether {@code leaf} names {@code host}: a DNS subjectAltName (or CN), or an IP one for an address literal. */
  public static boolean names(X509Certificate leaf, String host) {
    boolean literal = host.contains(":") || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    if (!literal) {
      return names(leaf).stream().anyMatch(n -> ServedCertificate.covers(n, ServedCertificate.normalize(host)));
    }
    try {
      java.net.InetAddress address = java.net.InetAddress.getByName(host); // a literal: no lookup
      Collection<List<?>> alternatives = leaf.getSubjectAlternativeNames();
      for (List<?> entry : alternatives == null ? List.<List<?>>of() : alternatives) {
        if (entry.size() >= 2 && Integer.valueOf(7).equals(entry.get(0)) && entry.get(1) instanceof String ip
            && java.net.InetAddress.getByName(ip).equals(address)) {
          return true;
        }
      }
    } catch (Exception e) {
      // an unreadable extension names nothing
    }
    return false;
  }

  /** The certificates of a PEM file (a chain, or the CAs to trust). */
  public static List<X509Certificate> readChain(Path file) throws CertificateFileException {
    byte[] bytes = read(file);
    List<X509Certificate> chain = new ArrayList<>();
    try {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
        chain.add((X509Certificate) c);
      }
    } catch (Exception e) {
      throw new CertificateFileException(file, "not a PEM certificate chain: " + message(e));
    }
    if (chain.isEmpty()) {
      throw new CertificateFileException(file, "holds no certificate (-----BEGIN CERTIFICATE-----)");
    }
    return chain;
  }

  private static PrivateKey readKey(Path file, Path certFile, List<X509Certificate> chain) throws CertificateFileException {
    byte[] bytes = read(file);
    try {
      // Vert.x's PEM reader: PKCS#8, PKCS#1 RSA and SEC1 EC keys. The chain here was read already,
      // so whatever fails now is the key file's.
      KeyStore store = KeyStoreHelper.loadKeyCert(List.of(Buffer.buffer(bytes)), List.of(Buffer.buffer(read(certFile))));
      String alias = store.aliases().nextElement();
      return (PrivateKey) store.getKey(alias, KeyStoreHelper.DUMMY_PASSWORD.toCharArray());
    } catch (Exception e) {
      throw new CertificateFileException(file, "not a PEM private key (PKCS#8, RSA or EC): " + message(e));
    }
  }

  private static byte[] read(Path file) throws CertificateFileException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CertificateFileException(file, "no such file");
    } catch (AccessDeniedException e) {
      throw new CertificateFileException(file, "cannot be read: permission denied");
    } catch (IOException e) {
      throw new CertificateFileException(file, "cannot be read: " + message(e));
    }
  }

  /** Whether {@code key} signs what {@code certificateKey} verifies: the one test that fits every key type. */
  static boolean matches(PrivateKey key, PublicKey certificateKey) {
    String algorithm = switch (key.getAlgorithm().toUpperCase(Locale.ROOT)) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "ED25519", "EDDSA" -> "Ed25519";
      case "ED448" -> "Ed448";
      default -> null;
    };
    if (algorithm == null || !key.getAlgorithm().equalsIgnoreCase(certificateKey.getAlgorithm())) {
      return algorithm == null && key.getAlgorithm().equalsIgnoreCase(certificateKey.getAlgorithm());
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificateKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (Exception e) {
      return false;
    }
  }

  private static String message(Exception e) {
    Throwable t = e;
    while (t.getCause() != null && t.getMessage() == null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
