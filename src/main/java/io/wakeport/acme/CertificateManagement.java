package io.wakeport.acme;

import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.tls.StaticCertificates;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The https listeners' certificates from one config snapshot to the next: ACME certificates for
 * every host no certificate file covers, and the directories of those files (to watch).
 */
public final class CertificateManagement {

  private static final Logger log = LoggerFactory.getLogger(CertificateManagement.class);

  private final StaticCertificates files;
  /** Null without {@code https.acme} at start. */
  private final AcmeService acme;

  public CertificateManagement(StaticCertificates files, AcmeService acme) {
    this.files = files;
    this.acme = acme;
  }

  /** Every configured (non-template) host that no certificate file covers gets one from ACME. */
  public void manage(WakeportConfig snapshot) {
    Set<String> names = new LinkedHashSet<>();
    for (TenantConfig tenant : snapshot.tenants().values()) {
      if (!tenant.isTemplate()) {
        for (String host : tenant.hosts()) {
          if (AcmeService.orderable(host) && files.registry().find(host) == null) {
            names.add(host);
          } else if (!AcmeService.orderable(host)) {
            log.debug("no ACME certificate for {}: not a public host name", host);
          }
        }
      }
    }
    if (!names.isEmpty()) {
      log.info("ACME: certificates for {} from {}", names, snapshot.acme().directory());
      acme.manage(names);
    }
  }

  /** The directories the certificate files lie in. */
  public List<Path> fileDirs() {
    return files.files().stream().map(Path::getParent).distinct().toList();
  }
}
