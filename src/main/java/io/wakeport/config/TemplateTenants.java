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
 * A template with {@code max-tenants} admits at most that many labels at once: a label already
 * admitted is served again, a new one past the bound is refused (and spawns nothing), so a flood
 * of made-up hosts against a template without {@code exists} never makes more than the bound's
 * tenants. Ports and admissions are given back when a tenant has been stopped and unused for
 * {@code release-after}, or, for a port, at once when the range is full ({@link DerivedTenants}).
 * One per config snapshot; what outlives the snapshot is in the {@link DerivedTenants} it shares.
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
  /** This snapshot's templates by name. */
  private final Map<String, Template> byName = new HashMap<>();
  private final DerivedTenants book;
  /** Ports no derived tenant may take: the configured tenants' and wakeport's own. */
  private final Set<Integer> reserved = new HashSet<>();
  private final AsyncLoadingCache<String, Resolution> derived;

  /**
   * What a host names through a template: a tenant (with the claim a request must hold while it
   * uses it), nothing (404), or a label the template cannot take now (503: the site may well
   * exist): {@code refusedBy} names that template, {@code noPort} says its port range is full of
   * tenants in use rather than its {@code max-tenants} reached.
   */
  public record Resolution(TenantConfig tenant, String refusedBy, boolean noPort, DerivedTenants.Claim claim) {
    static final Resolution NONE = new Resolution(null, null, false, null);

    public boolean found() {
      return tenant != null;
    }
  }

  /** A snapshot's templates with a book of its own (nothing runs: for tools and tests of routing alone). */
  public TemplateTenants(WakeportConfig config) {
    this(config, new DerivedTenants(config.stateDir(), DerivedTenants.Instances.NONE));
  }

  public TemplateTenants(WakeportConfig config, DerivedTenants book) {
    this.config = config;
    this.book = book;
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        tenant.template().suffixes().forEach(sfx -> bySuffix.put(sfx, tenant));
        byName.put(tenant.name(), tenant.template());
      } else {
        tenant.instances().forEach(i -> reserved.add(i.port()));
      }
    }
    reserved.add(config.listenPort());
    book.ports();
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
    CompletableFuture<Resolution> cached = derived.get(host);
    Resolution now = cached.getNow(null);
    if (now != null && now.claim() != null && now.claim().released()) {
      return resolveAgain(host); // its tenant gave its port back: the cached port may be another's now
    }
    return cached;
  }

  /**
   * {@code host} resolved afresh, past the cache: for a request whose resolution's claim was
   * given back (or was being checked) when it tried to hold it.
   */
  public CompletableFuture<Resolution> resolveAgain(String host) {
    derived.synchronous().invalidate(host);
    return derived.get(host);
  }

  /** Gives back what idle derived tenants of this snapshot's templates hold (off the caller's thread). */
  public void releaseIdleLater() {
    IO.execute(() -> book.releaseIdle(byName));
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
    DerivedTenants.Claim claim;
    synchronized (book) {
      PortAssignments ports = book.ports();
      // Namespaced by template, like its files: the same label under two templates is two tenants.
      String stem = t.name() + "+" + label;
      DerivedTenants.Claim existing = book.live(stem);
      claim = existing != null ? existing : new DerivedTenants.Claim(t.name(), label);
      if (!book.admit(claim, t.maxTenants())) {
        return new Resolution(null, t.name(), false, null);
      }
      for (InstanceConfig ic : template.instances()) {
        String key = ic.route().isEmpty() ? stem : stem + "/" + ic.route();
        int port = ports.assignFrom(key, t.portFirst(), t.portLast(), reserved);
        while (port < 0 && book.reclaimOne(t.portFirst(), t.portLast(), stem, host)) {
          port = ports.assignFrom(key, t.portFirst(), t.portLast(), reserved);
        }
        if (port < 0) {
          // Said at most once a second by the dispatch (a flood of new labels would repeat it).
          org.slf4j.LoggerFactory.getLogger(TemplateTenants.class).debug(
              "template {}: no free port left in {}-{} for {}: every port is held by a running or recently used tenant",
              t.name(), t.portFirst(), t.portLast(), host);
          if (existing == null) {
            book.abandon(claim);
          }
          ports.saveQuietly();
          return new Resolution(null, t.name(), true, null);
        }
        instances.add(new InstanceConfig(ic.route(), port, ic.weight(), ic.disabled(), ic.standby()));
      }
      if (existing == null) {
        book.add(claim);
      }
      ports.saveQuietly();
    }
    return new Resolution(template.derive(label, host, instances), null, false, claim);
  }
}
