package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.Containment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pid files of an earlier run, found and taken over: a live process whose start time matches is
 * ours and is handed to the {@link Supervisor} (or stopped through {@link Stopping}, when its
 * tenant is no longer configured); anything else is a stale file. Reads and signals on worker
 * threads; the take-over itself, a state change, is the supervisor's and runs on its context.
 */
final class Adoption {

  /** What adoption needs of the supervisor; called on the supervisor's context. */
  interface Adopter {
    /** Makes {@code process}, started by an earlier run, the process of this instance. */
    void adopt(TenantConfig tenant, InstanceConfig config, ManagedProcess process);
  }

  /** Logs as the supervisor did before this was split out of it. */
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  private final Vertx vertx;
  private final Containment containment;
  private final PidFiles pidFiles;
  private final Path logDir;
  private final Stopping stopping;
  private final Adopter adopter;

  Adoption(Vertx vertx, PidFiles pidFiles, Path logDir, Containment containment, Stopping stopping, Adopter adopter) {
    this.vertx = vertx;
    this.containment = containment;
    this.pidFiles = pidFiles;
    this.logDir = logDir;
    this.stopping = stopping;
    this.adopter = adopter;
  }

  /**
   * Pid files from an earlier run: a live process whose start time matches is ours and is adopted
   * (or stopped, when its tenant is no longer configured); anything else is a stale file. Called
   * on the supervisor context.
   */
  Future<Void> adoptLeftovers(WakeportConfig config) {
    List<InstanceConfigRef> configured = new ArrayList<>();
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        continue; // tenants made from templates are not adopted: a leftover of theirs is stopped
      }
      for (InstanceConfig ic : tenant.instances()) {
        configured.add(new InstanceConfigRef(tenant, ic));
      }
    }
    return vertx.executeBlocking(() -> findLeftovers(config.runDir(), configured), false).compose(found -> {
      List<Future<Void>> stops = new ArrayList<>();
      for (Leftover leftover : found) {
        if (leftover.ref() == null) {
          log.warn("pid {} ({}) was started by an earlier wakeport for an instance no longer configured: stopping it",
              leftover.process().pid(), leftover.name());
          stops.add(stopping.stopTree(leftover.process(), "TERM", Duration.ofSeconds(10))
              .compose(stopped -> vertx.executeBlocking(() -> {
                pidFiles.delete(leftover.name());
                return null;
              }, false)));
          continue;
        }
        adopter.adopt(leftover.ref().tenant(), leftover.ref().config(), leftover.process());
      }
      return Future.join(stops).mapEmpty();
    });
  }

  private record InstanceConfigRef(TenantConfig tenant, InstanceConfig config) {}

  private record Leftover(String name, ManagedProcess process, InstanceConfigRef ref) {}

  private List<Leftover> findLeftovers(Path runDir, List<InstanceConfigRef> configured) throws java.io.IOException {
    List<Leftover> found = new ArrayList<>();
    if (!Files.isDirectory(runDir)) {
      return found;
    }
    try (var files = Files.list(runDir)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".pid")).toList()) {
        String name = file.getFileName().toString().replaceFirst("\\.pid$", "");
        PidFiles.Entry entry = pidFiles.read(name).orElse(null);
        ProcessHandle handle = entry == null ? null : ProcessHandle.of(entry.pid()).orElse(null);
        if (handle == null || !handle.isAlive()
            || Math.abs(ManagedProcess.startInstant(handle).toEpochMilli() - entry.startedAt().toEpochMilli()) > 1000) {
          pidFiles.delete(name); // gone, or the pid now belongs to another process
          continue;
        }
        InstanceConfigRef ref = configured.stream()
            .filter(r -> r.tenant().fileStem(r.config().route()).equals(name) && r.config().port() == entry.port())
            .findFirst().orElse(null);
        Path logFile = logDir.resolve(name + ".log");
        String stem = name;
        if (ref == null && !name.contains("@")) {
          // Written before routes had their own separator ("<tenant>-<route>"): the port tells which
          // route it was. It moves to the route's new pid file; its output stays where it was opened.
          ref = configured.stream()
              .filter(r -> !r.config().route().isEmpty() && r.config().port() == entry.port()
                  && (r.tenant().name() + "-" + r.config().route()).equals(name))
              .findFirst().orElse(null);
          if (ref != null) {
            stem = ref.tenant().fileStem(ref.config().route());
            Files.move(file, pidFiles.file(stem), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            log.info("pid file {} is from the former naming: now {} (the process keeps writing to {} until it restarts)",
                file.getFileName(), pidFiles.file(stem).getFileName(), logFile);
          }
        }
        found.add(new Leftover(stem, ManagedProcess.adopted(handle, entry.groupLeader(), logFile,
            containment.cell(stem)), ref));
      }
    }
    return found;
  }
}
