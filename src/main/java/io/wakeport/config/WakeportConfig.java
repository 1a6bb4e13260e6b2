package io.wakeport.config;

import io.wakeport.accesslog.AccessLogSettings;
import java.nio.file.Path;
import java.util.Map;

/**
 * A whole, validated configuration snapshot. Replaced whole on reload, never edited in place.
 *
 * @param sources   the main file and every file it includes
 * @param watchDirs directories whose changes may change the config (the main file's, and those of includes)
 * @param includeGlobs absolute {@code glob:} patterns of the files includes may pick up
 * @param accessLog where and how requests are logged ({@link AccessLogSettings#disabled()} by default)
 * @param admin     the admin listener (on at 127.0.0.1:8081 unless {@code admin: off})
 * @param watch     whether and how edits to the files are picked up without a HUP
 * @param metrics   whether requests, starts and the JVM are measured for {@code /metrics} ({@code metrics:}, true by default)
 * @param pages     the operator's own pages for all tenants and for hosts no tenant serves ({@code pages:})
 * @param https     TLS listeners, certificates, redirect and HSTS ({@link HttpsSettings#off()} without {@code https:})
 * @param acme      certificates from an ACME server ({@code https.acme}); null: none
 * @param cluster   the {@code cluster:} section, or null: a single machine
 * @param tenants   by name, in file order
 * @param warnings  things worth fixing that do not stop the config from being used, as {@code check} and start-up report them
 */
public record WakeportConfig(
    Path file,
    java.util.List<Path> sources,
    java.util.List<Path> watchDirs,
    java.util.List<String> includeGlobs,
    String listenHost,
    int listenPort,
    Path stateDir,
    ProxySettings proxy,
    AccessLogSettings accessLog,
    AdminSettings admin,
    SupervisorSettings supervisor,
    WatchSettings watch,
    boolean metrics,
    PageTemplates pages,
    HttpsSettings https,
    AcmeSettings acme,
    ClusterSettings cluster,
    Map<String, TenantConfig> tenants,
    java.util.List<ConfigProblem> warnings) {

  public WakeportConfig {
    tenants = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tenants));
    warnings = java.util.List.copyOf(warnings);
  }

  /** The same config with {@code replaced} tenants (by name) in their places: registered members added, say. */
  public WakeportConfig withTenants(Map<String, TenantConfig> replaced) {
    if (replaced.isEmpty()) {
      return this;
    }
    Map<String, TenantConfig> all = new java.util.LinkedHashMap<>(tenants);
    replaced.forEach((name, tenant) -> all.replace(name, tenant));
    return new WakeportConfig(file, sources, watchDirs, includeGlobs, listenHost, listenPort, stateDir, proxy, accessLog,
        admin, supervisor, watch, metrics, pages, https, acme, cluster, all, warnings);
  }

  /** The same config with {@code kept} as its cluster settings, and {@code warning} added: a reload that keeps the running ones. */
  public WakeportConfig withCluster(ClusterSettings kept, ConfigProblem warning) {
    java.util.List<ConfigProblem> more = new java.util.ArrayList<>(warnings);
    more.add(warning);
    return new WakeportConfig(file, sources, watchDirs, includeGlobs, listenHost, listenPort, stateDir, proxy, accessLog,
        admin, supervisor, watch, metrics, pages, https, acme, kept, tenants, more);
  }

  /** Whether a change to {@code path} can change this config. */
  public boolean dependsOn(Path path) {
    if (sources.contains(path)) {
      return true;
    }
    for (String glob : includeGlobs) {
      if (path.getFileSystem().getPathMatcher(glob).matches(path)) {
        return true;
      }
    }
    return false;
  }

  public Path logDir() {
    return stateDir.resolve("logs");
  }

  /** Pid files of running backends, read back to adopt them after a restart. */
  public Path runDir() {
    return stateDir.resolve("run");
  }
}
