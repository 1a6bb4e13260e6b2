package io.wakeport.config;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Tenants made on demand from host-pattern templates ({@code *.apps.example.com}). The first label
 * of the Host becomes the tenant name only if it is a valid tenant name, so nothing a client sends
 * is ever substituted into a command, a path or an environment variable otherwise. An optional
 * {@code exists} path decides whether the tenant exists; its port is assigned from the template's
 * range and remembered in the state dir like any other. Results are cached (Caffeine): a known
 * tenant for 10 minutes, an unknown one for 5 seconds, so a customer directory created now is
 * served within seconds and a flood of made-up hosts costs one file check each per 5 seconds.
 * A template with {@code max-tenants} admits at most that many labels while this snapshot lives:
 * a label already admitted is served again, a new one past the bound is refused (and spawns
 * nothing), so a flood of made-up hosts against a template without {@code exists} never makes more
 * than the bound's tenants. One per config snapshot.
 */
public final class TemplateTenants {

  /** File checks and port bookkeeping block: they run here, never on an event loop. */
  private static final Executor IO = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "wakeport-templates");
    t.setDaemon(true);
    return t;
  });
  private static final long KNOWN_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final long UNKNOWN_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final WakeportConfig config;
  private final Map<String, TenantConfig> bySuffix = new HashMap<>();
  private final PortAssignments ports;
  private final Set<Integer> taken = new HashSet<>();
  private final AsyncLoadingCache<String, Resolution> derived;
  /** Labels each bounded template has admitted (guarded by {@link #ports}); never more than its max-tenants. */
  private final Map<String, Set<String>> admitted = new HashMap<>();

  /**
   * What a host names through a template: a tenant, nothing (404), or a label the template's
   * {@code max-tenants} leaves no room for (503: the site may well exist); {@code refusedBy} names
   * that template.
   */
  public record Resolution(TenantConfig tenant, String refusedBy) {
    static final Resolution NONE = new Resolution(null, null);

    public boolean found() {
      return tenant != null;
    }
  }

  public TemplateTenants(WakeportConfig config) {
    this.config = config;
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        tenant.template().suffixes().forEach(sfx -> bySuffix.put(sfx, tenant));
      } else {
        tenant.instances().forEach(i -> taken.add(i.port()));
      }
    }
    taken.add(config.listenPort());
    this.ports = PortAssignments.open(config.stateDir());
    this.derived = Caffeine.newBuilder()
        .maximumSize(100_000)
        .executor(IO)
        .expireAfter(new Expiry<String, Resolution>() {
          @Override
          public long expireAfterCreate(String key, Resolution value, long now) {
            return value.found() ? KNOWN_NANOS : UNKNOWN_NANOS;
          }

          @Override
          public long expireAfterUpdate(String key, Resolution value, long now, long current) {
            return expireAfterCreate(key, value, now);
          }

          @Override
          public long expireAfterRead(String key, Resolution value, long now, long current) {
            return current;
          }
        })
        .buildAsync(this::derive);
  }

  public boolean isEmpty() {
    return bySuffix.isEmpty();
  }

  /** Whether some template's pattern covers {@code host} (lower case, no port): cheap, no I/O. */
  public boolean covers(String host) {
    int dot = host.indexOf('.');
    return dot > 0 && bySuffix.containsKey(host.substring(dot + 1));
  }

  /** What {@code host} names through a template (completes off the event loop when not cached). */
  public CompletableFuture<Resolution> resolve(String host) {
    int dot = host.indexOf('.');
    if (dot <= 0 || !bySuffix.containsKey(host.substring(dot + 1))
        || !ConfigLoader.TENANT_NAME.matcher(host.substring(0, dot)).matches()) {
      return CompletableFuture.completedFuture(Resolution.NONE);
    }
    return derived.get(host);
  }

  private Resolution derive(String host) {
    int dot = host.indexOf('.');
    String label = host.substring(0, dot);
    TenantConfig template = bySuffix.get(host.substring(dot + 1));
    if (config.tenants().containsKey(label)) {
      return Resolution.NONE; // a configured tenant of that name owns its logs, pid files and port
    }
    Template t = template.template();
    if (t.exists() != null) {
      String path = Placeholders.substitute(t.exists(), Map.of("tenant", label, "route", "", "port", ""));
      if (!Files.exists(template.baseDir().resolve(path))) {
        return Resolution.NONE;
      }
    }
    List<InstanceConfig> instances = new ArrayList<>();
    synchronized (ports) {
      boolean admittedNow = false;
      if (t.maxTenants() > 0) {
        Set<String> labels = admitted.computeIfAbsent(t.name(), k -> new HashSet<>());
        if (!labels.contains(label)) {
          if (labels.size() >= t.maxTenants()) {
            return new Resolution(null, t.name());
          }
          labels.add(label);
          admittedNow = true;
        }
      }
      for (InstanceConfig ic : template.instances()) {
        // Namespaced by template, like its files: the same label under two templates is two tenants.
        String stem = t.name() + "+" + label;
        String key = ic.route().isEmpty() ? stem : stem + "/" + ic.route();
        int port = ports.assign(key, t.portFirst(), t.portLast(), taken);
        if (port < 0) {
          org.slf4j.LoggerFactory.getLogger(TemplateTenants.class).error(
              "template {}: no free port left in {}-{} for {}", t.name(), t.portFirst(), t.portLast(), host);
          if (admittedNow) {
            admitted.get(t.name()).remove(label);
          }
          return Resolution.NONE;
        }
        instances.add(new InstanceConfig(ic.route(), port, ic.weight(), ic.disabled(), ic.standby()));
      }
      ports.saveQuietly();
    }
    return new Resolution(template.derive(label, host, instances), null);
  }
}
