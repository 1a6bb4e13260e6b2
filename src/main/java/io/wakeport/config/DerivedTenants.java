package io.wakeport.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What outlives a config snapshot about the tenants made from templates: the ports they hold
 * (remembered in {@code state-dir/ports.properties}), the labels each template has admitted
 * under its {@code max-tenants}, and which requests hold each tenant. One per running wakeport;
 * each snapshot's {@link TemplateTenants} works on it.
 *
 * <p>A derived tenant gives its ports and its admission back once all its instances are stopped
 * and no request began or ended for the template's {@code release-after}, and at once, least
 * recently used first, when a new label finds the range full and the tenant has been unused for
 * at least {@link #RECLAIM_MIN_NANOS}. Safety does not rest on the timing: every request holds
 * its tenant's {@link Claim} from before it asks the supervisor for an instance until its
 * exchange ends, and a claim is given back only while nobody holds it and after the supervisor
 * has dropped its instances, none with a process or a lease. A request whose claim was given back
 * (its cached resolution names the old port) finds it so when it tries to hold it, and resolves
 * the host again instead; so a port is never handed to a new label while the old tenant runs on
 * it or a request is about to start it.
 */
public final class DerivedTenants {

  private static final Logger log = LoggerFactory.getLogger(DerivedTenants.class);
  /** A tenant used more recently than this is never reclaimed for a new label (it may be about to be held). */
  static final long RECLAIM_MIN_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** What the supervisor is asked before a derived tenant's port is given back. */
  @FunctionalInterface
  public interface Instances {
    /**
     * Drops the instance with key {@code key} ({@code <template>+<label>}, and {@code /<route>}
     * for one of several) if it has no process and no request, and answers true; true too when
     * there is none; false, dropping nothing, when it is in use.
     */
    boolean forgetIfStopped(String key);

    /** For a routing table without a supervisor: nothing ever runs. */
    Instances NONE = key -> true;
  }

  /**
   * One derived tenant's hold on its ports: how many exchanges hold it, and when one last began
   * or ended. A request holds it before it asks for an instance and lets go when its exchange ends.
   */
  public static final class Claim {
    private static final int CHECKING = -1;
    private static final int RELEASED = -2;

    final String template;
    final String label;
    final String stem;
    /** At least 0: the exchanges holding it; CHECKING while it is being given back; RELEASED once it was. */
    private final AtomicInteger holds = new AtomicInteger();
    private volatile long lastUsedNanos = System.nanoTime();
    /** Counted in its template's max-tenants (guarded by the book). */
    boolean admitted;

    Claim(String template, String label) {
      this.template = template;
      this.label = label;
      this.stem = template + "+" + label;
    }

    /**
     * Holds the tenant for one exchange; false when its ports were given back (or are being):
     * resolve the host again. {@code counts}: the request counts as use (not an ignored one).
     */
    public boolean hold(boolean counts) {
      while (true) {
        int h = holds.get();
        if (h < 0) {
          return false;
        }
        if (holds.compareAndSet(h, h + 1)) {
          if (counts) {
            lastUsedNanos = System.nanoTime();
          }
          return true;
        }
      }
    }

    /** Ends one {@link #hold}. */
    public void letGo(boolean counts) {
      if (counts) {
        lastUsedNanos = System.nanoTime();
      }
      holds.decrementAndGet();
    }

    boolean released() {
      return holds.get() == RELEASED;
    }

    long lastUsedNanos() {
      return lastUsedNanos;
    }

    @Override
    public String toString() {
      return stem;
    }
  }

  private final Path stateDir;
  private final Instances instances;
  // Guarded by this.
  private PortAssignments ports;
  private final Map<String, Claim> claims = new HashMap<>();
  /** Per template, the labels counted in its max-tenants. */
  private final Map<String, Set<String>> admitted = new HashMap<>();

  public DerivedTenants(Path stateDir, Instances instances) {
    this.stateDir = stateDir;
    this.instances = instances;
  }

  /** The ports file, read on first use: tenants remembered there have claims nobody holds. */
  synchronized PortAssignments ports() {
    if (ports == null) {
      ports = PortAssignments.open(stateDir);
      for (String key : ports.remembered().keySet()) {
        int plus = key.indexOf('+');
        if (plus > 0) {
          String stem = stemOf(key);
          claims.computeIfAbsent(stem, s -> new Claim(s.substring(0, plus), s.substring(plus + 1)));
        }
      }
    }
    return ports;
  }

  private static String stemOf(String key) {
    int slash = key.indexOf('/');
    return slash < 0 ? key : key.substring(0, slash);
  }

  /** The claim of tenant {@code stem} ({@code <template>+<label>}) not given back, or null. Under the lock. */
  Claim live(String stem) {
    ports();
    Claim claim = claims.get(stem);
    return claim == null || claim.released() ? null : claim;
  }

  /** Keeps a new claim that got its ports. Under the lock. */
  void add(Claim claim) {
    claims.put(claim.stem, claim);
  }

  /** Counts {@code claim} in its template's bound: false when {@code max} labels are counted already. Under the lock. */
  boolean admit(Claim claim, int max) {
    if (max <= 0 || claim.admitted) {
      return true;
    }
    Set<String> labels = admitted.computeIfAbsent(claim.template, k -> new HashSet<>());
    if (labels.size() >= max) {
      return false;
    }
    labels.add(claim.label);
    claim.admitted = true;
    return true;
  }

  /** A new claim (not added) that got no port: its admission and whatever ports it was given are undone. Under the lock. */
  void abandon(Claim claim) {
    keysOf(claim.stem).forEach(ports::forget);
    unadmit(claim);
  }

  private void unadmit(Claim claim) {
    if (claim.admitted) {
      Set<String> labels = admitted.get(claim.template);
      if (labels != null) {
        labels.remove(claim.label);
      }
      claim.admitted = false;
    }
  }

  private List<String> keysOf(String stem) {
    List<String> keys = new ArrayList<>();
    for (String key : ports.remembered().keySet()) {
      if (key.equals(stem) || key.startsWith(stem + "/")) {
        keys.add(key);
      }
    }
    return keys;
  }

  /**
   * Gives back the ports of the least recently used derived tenant holding one in [first, last]
   * that nobody holds, stopped and unused for at least {@link #RECLAIM_MIN_NANOS}; false when none
   * qualifies. {@code except} is the tenant asking. Under the lock; the caller saves.
   */
  boolean reclaimOne(int first, int last, String except, String forWhom) {
    long now = System.nanoTime();
    List<Claim> candidates = new ArrayList<>();
    Map<String, Integer> remembered = ports.remembered();
    for (Claim claim : claims.values()) {
      if (claim.stem.equals(except) || claim.holds.get() != 0 || now - claim.lastUsedNanos() < RECLAIM_MIN_NANOS) {
        continue;
      }
      for (String key : keysOf(claim.stem)) {
        int port = remembered.get(key);
        if (port >= first && port <= last) {
          candidates.add(claim);
          break;
        }
      }
    }
    candidates.sort(Comparator.comparingLong(Claim::lastUsedNanos));
    for (Claim claim : candidates) {
      List<Integer> freed = release(claim);
      if (freed != null) {
        log.info("template {}: port range {}-{} full: took port(s) {} back from {} (stopped, unused for {} s) for {}",
            claim.template, first, last, freed, claim.stem, (now - claim.lastUsedNanos()) / 1_000_000_000L, forWhom);
        return true;
      }
    }
    return false;
  }

  /**
   * Gives back the ports and admissions of the tenants of {@code templates} (by name) whose
   * {@code release-after} has passed without a request, and whose instances are all stopped.
   */
  public synchronized void releaseIdle(Map<String, Template> templates) {
    if (ports == null) {
      return;
    }
    long now = System.nanoTime();
    boolean changed = false;
    for (Claim claim : new ArrayList<>(claims.values())) {
      Template t = templates.get(claim.template);
      if (t == null || t.releaseAfter().isZero() || claim.holds.get() != 0
          || now - claim.lastUsedNanos() < t.releaseAfter().toNanos()) {
        continue;
      }
      List<Integer> freed = release(claim);
      if (freed != null) {
        changed = true;
        log.info("template {}: {} stopped and unused for {}: gave back port(s) {}{}", claim.template, claim.stem,
            Durations.format(t.releaseAfter()), freed, t.maxTenants() > 0 ? " and its max-tenants slot" : "");
      }
    }
    if (changed) {
      ports.saveQuietly();
    }
  }

  /**
   * Gives {@code claim} back if nobody holds it and the supervisor drops its instances (none
   * with a process or a lease): the ports it freed, or null when it is in use. Under the lock.
   */
  private List<Integer> release(Claim claim) {
    if (!claim.holds.compareAndSet(0, Claim.CHECKING)) {
      return null;
    }
    List<String> keys = keysOf(claim.stem);
    for (String key : keys) {
      if (!instances.forgetIfStopped(key)) {
        claim.holds.set(0);
        return null;
      }
    }
    if (keys.isEmpty() && !instances.forgetIfStopped(claim.stem)) {
      claim.holds.set(0);
      return null;
    }
    claim.holds.set(Claim.RELEASED);
    claims.remove(claim.stem, claim);
    unadmit(claim);
    List<Integer> freed = new ArrayList<>();
    for (String key : keys) {
      freed.add(ports.forget(key));
    }
    return freed;
  }

  /** How many derived tenants hold ports or slots now (for tests and benchmarks). */
  public synchronized int claimCount() {
    return claims.size();
  }
}
