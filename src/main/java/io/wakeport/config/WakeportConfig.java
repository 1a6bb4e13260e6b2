package io.wakeport.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * A whole, validated configuration snapshot. Replaced whole on reload, never edited in place.
 *
 * @param tenants by name, in file order
 */
public record WakeportConfig(
    Path file,
    String listenHost,
    int listenPort,
    Path stateDir,
    ProxySettings proxy,
    SupervisorSettings supervisor,
    Map<String, TenantConfig> tenants) {

  public WakeportConfig {
    tenants = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tenants));
  }

  public Path logDir() {
    return stateDir.resolve("logs");
  }

  /** Pid files of running backends, read back to adopt them after a restart. */
  public Path runDir() {
    return stateDir.resolve("run");
  }
}
