package io.wakeport;

import io.wakeport.acme.CertificateManagement;
import io.wakeport.config.ConfigWatcher;
import io.wakeport.config.Durations;
import io.wakeport.config.WakeportConfig;
import io.wakeport.tls.StaticCertificates;
import java.io.IOException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which files wakeport watches: the config's (a change reloads it once the files have been still
 * for {@code watch.quiet}) and the certificate files' (a renewed certificate applies alone). On
 * only once the caller asks ({@link #start}) and while the config's {@code watch:} allows it.
 */
final class FileWatching {

  private static final Logger log = LoggerFactory.getLogger(Wakeport.class);

  private final Supplier<WakeportConfig> config;
  private final Runnable reload;
  /** Null without https at start. */
  private final StaticCertificates certificateFiles;
  private final CertificateManagement certificateManagement;
  private ConfigWatcher watcher;
  private ConfigWatcher certificateWatcher;
  /** Whether the caller wants edits picked up; {@code watch:} in the config may still say no. */
  private boolean wanted;

  FileWatching(Supplier<WakeportConfig> config, Runnable reload, StaticCertificates certificateFiles,
      CertificateManagement certificateManagement) {
    this.config = config;
    this.reload = reload;
    this.certificateFiles = certificateFiles;
    this.certificateManagement = certificateManagement;
  }

  synchronized void start() throws IOException {
    wanted = true;
    sync();
  }

  synchronized boolean watching() {
    return watcher != null;
  }

  /** After a reload: starts or stops watching as {@code watch:} now says, and follows the files it names. */
  synchronized void reloaded(WakeportConfig previous, WakeportConfig next) {
    try {
      if (next.watch().enabled() != previous.watch().enabled()) {
        sync();
      }
    } catch (IOException e) {
      log.error("cannot watch the config files: edits apply on HUP only until the next reload", e);
    }
    if (watcher != null) {
      watcher.watch(next.watchDirs());
    }
    if (certificateWatcher != null) {
      certificateWatcher.watch(certificateManagement.fileDirs());
    }
  }

  private void sync() throws IOException {
    if (!wanted) {
      return;
    }
    WakeportConfig current = config.get();
    if (current.watch().enabled() && watcher == null) {
      // The current config decides which files matter (a reload may include new ones) and how long they must be still.
      watcher = new ConfigWatcher(current.watchDirs(), path -> config.get().dependsOn(path),
          () -> config.get().watch().quiet(), reload);
      log.info("watching the config files: a change applies once they have been still for {}",
          Durations.format(current.watch().quiet()));
      if (certificateFiles != null) {
        certificateWatcher = new ConfigWatcher(certificateManagement.fileDirs(),
            path -> certificateFiles.files().contains(path), () -> config.get().watch().quiet(),
            certificateFiles::reload);
      }
    } else if (!current.watch().enabled()) {
      if (watcher != null) {
        watcher.close(); // may be this very thread's watcher: close does not wait for it
        watcher = null;
      }
      if (certificateWatcher != null) {
        certificateWatcher.close();
        certificateWatcher = null;
      }
      log.info("watch: false: config edits apply on HUP (or a restart) only");
    }
  }

  synchronized void close() throws IOException {
    if (watcher != null) {
      watcher.close();
    }
    if (certificateWatcher != null) {
      certificateWatcher.close();
    }
  }
}
