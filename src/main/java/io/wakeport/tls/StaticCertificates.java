package io.wakeport.tls;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code https.certificates} files behind a {@link CertificateRegistry}: read at start, read
 * again when they change on disk or the config names others. A pair that no longer reads (half
 * written, a key for another certificate) keeps serving what it served before, and the log names
 * the file at fault. Blocking file I/O: the watcher's thread, a reload's, never an event loop.
 */
public final class StaticCertificates {

  private static final Logger log = LoggerFactory.getLogger(StaticCertificates.class);

  private final CertificateRegistry registry;
  private List<CertificateSource> sources = List.of();
  /** What each source serves now, read from its files at some point. */
  private final Map<CertificateSource, ServedCertificate> served = new HashMap<>();

  public StaticCertificates(CertificateRegistry registry) {
    this.registry = registry;
  }

  public CertificateRegistry registry() {
    return registry;
  }

  /** Serves {@code next} (in order: the first is the default), reading every file again. */
  public synchronized void use(List<CertificateSource> next) {
    sources = List.copyOf(next);
    served.keySet().retainAll(Set.copyOf(sources));
    reload();
  }

  /** Every certificate and key file, to be watched. */
  public synchronized Set<Path> files() {
    Set<Path> files = new LinkedHashSet<>();
    for (CertificateSource source : sources) {
      files.add(source.cert());
      files.add(source.key());
    }
    return files;
  }

  /**
   * Reads every pair again; each one that reads and differs from what it served replaces it. Returns
   * how many pairs failed (each kept its previous certificate, if it had one).
   */
  public synchronized int reload() {
    int failed = 0;
    List<ServedCertificate> now = new ArrayList<>();
    for (CertificateSource source : sources) {
      ServedCertificate before = served.get(source);
      try {
        ServedCertificate read = CertificateFiles.load(source);
        if (before == null || !sameFiles(before, read)) {
          log.info("https: serving {} for {} (not after {}){}", source.cert(), source.hosts(), read.notAfter(),
              before == null ? "" : ", replacing the certificate it served");
          String warning = CertificateFiles.expiryWarning(read, Instant.now());
          if (warning != null) {
            log.warn("https: the certificate in {} {}", source.cert(), warning);
          }
          served.put(source, read);
        }
      } catch (CertificateFileException e) {
        failed++;
        log.error("https: {}; {}", e.getMessage(), before == null ? "not served"
            : "still serving the certificate read from " + source.cert() + " before (not after " + before.notAfter() + ")");
      }
      ServedCertificate current = served.get(source);
      if (current != null) {
        now.add(current);
      }
    }
    registry.replaceFromFiles(now);
    return failed;
  }

  private static boolean sameFiles(ServedCertificate a, ServedCertificate b) {
    return a.chain().equals(b.chain()) && a.key().equals(b.key()) && a.hosts().equals(b.hosts());
  }
}
