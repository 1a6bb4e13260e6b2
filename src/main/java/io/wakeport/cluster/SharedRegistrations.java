package io.wakeport.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.wakeport.registration.Registration;
import io.wakeport.registration.RegistrationRefused;
import io.wakeport.registration.RegistrationSharing;
import io.wakeport.registration.Registrations;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registered members shared by every node: the map {@code wakeport.registrations}, keyed
 * {@code tenant/route}, holding each member's address, weight, load and lease times as JSON.
 * Every node hears each change through an entry listener and serves the member itself (an
 * address: balanced to directly, checked by each node's own health checks). Leases are not
 * Hazelcast TTLs: each node's expiry sweep takes a silent member out here and removes it from the
 * map, unless it reported meanwhile (see docs/cluster.md). A tenant's registrations are counted
 * against {@code max-members} under a lock of that tenant, so two nodes never admit one too many.
 */
final class SharedRegistrations implements RegistrationSharing {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);
  static final String REGISTRATIONS = "wakeport.registrations";
  /** How long a tenant's registration lock is held at most (a node that dies holding it loses it sooner). */
  private static final long LOCK_SECONDS = 10;

  private final Vertx vertx;
  private final IMap<String, String> map;

  SharedRegistrations(Vertx vertx, IMap<String, String> map) {
    this.vertx = vertx;
    this.map = map;
  }

  @Override
  public void open(Listener listener) {
    map.addEntryListener(new Events(listener), true);
    // After the listener: a member registered meanwhile comes twice, which changes nothing.
    map.forEach((key, value) -> listener.changed(member(key, value)));
  }

  @Override
  public Registrations.Change register(String tenant, String route, int maxMembers,
      Supplier<Registrations.Change> register) {
    String lock = tenant + "/"; // never a member's key: a route is never empty
    try {
      if (!map.tryLock(lock, LOCK_SECONDS, TimeUnit.SECONDS, LOCK_SECONDS, TimeUnit.SECONDS)) {
        throw new RegistrationRefused(503, "busy", "another node holds tenant " + tenant
            + "'s registrations; try again shortly");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistrationRefused(503, "busy", "interrupted");
    }
    try {
      String key = tenant + "/" + route;
      long others = map.keySet().stream().filter(k -> k.startsWith(lock) && !k.equals(key)).count();
      if (others >= maxMembers) {
        throw new RegistrationRefused(429, "too-many-members", "tenant " + tenant + " has " + maxMembers
            + " registered members across the cluster, its registration.max-members");
      }
      Registrations.Change change = register.get();
      map.set(key, json(change.registration()));
      return change;
    } finally {
      map.unlock(lock);
    }
  }

  @Override
  public void reported(Registration r) {
    // Unordered (reports of one member may pass each other on the workers, or come through two
    // nodes): shareNewer keeps the newest whatever the order, which one ordered queue would not
    // across nodes.
    vertx.executeBlocking(() -> shareNewer(r), false).onFailure(e ->
        log.warn("tenant {}: sharing the load report of member {} failed: {}", r.tenant(), r.route(), e.toString()));
  }

  /**
   * Puts the report {@code r} in the map unless the entry there is newer: a compare-and-set on the
   * entry, so an older report never moves {@code lastReport} back (and the member never expires
   * early on another node). An entry gone meanwhile stays gone: a report never registers.
   */
  private boolean shareNewer(Registration r) {
    String key = key(r);
    String next = json(r);
    while (true) {
      String now = map.get(key);
      if (now == null) {
        return false;
      }
      Member shared = member(key, now);
      if (shared.registeredMillis() > r.registeredMillis()
          || shared.registeredMillis() == r.registeredMillis() && shared.lastReportMillis() > r.lastReportMillis()) {
        return false; // a newer report, or a newer registration, is there
      }
      if (map.replace(key, now, next)) {
        return true;
      }
    }
  }

  @Override
  public void removed(Registration r) {
    map.remove(key(r));
  }

  @Override
  public void expired(Registration r) {
    String key = key(r);
    String now = map.get(key);
    if (now != null) {
      Member shared = member(key, now);
      if (shared.registeredMillis() == r.registeredMillis() && shared.lastReportMillis() == r.lastReportMillis()) {
        map.remove(key, now); // a report that came meanwhile keeps it
      }
    }
  }

  private static String key(Registration r) {
    return r.tenant() + "/" + r.route();
  }

  private static String json(Registration r) {
    return new JsonObject().put("address", r.member().address()).put("weight", r.weight()).put("load", r.load())
        .put("registered", r.registeredMillis()).put("lastReport", r.lastReportMillis()).encode();
  }

  private static Member member(String key, String value) {
    int slash = key.indexOf('/');
    JsonObject json = new JsonObject(value);
    return new Member(key.substring(0, slash), key.substring(slash + 1), json.getString("address"),
        json.getInteger("weight"), json.getInteger("load"), json.getLong("registered"), json.getLong("lastReport"));
  }

  /** Hands every change of the map on. */
  private static final class Events implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String>, EntryRemovedListener<String, String>,
      EntryEvictedListener<String, String>, EntryExpiredListener<String, String> {
    private final Listener listener;

    Events(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      listener.changed(member(event.getKey(), event.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      listener.changed(member(event.getKey(), event.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void entryExpired(EntryEvent<String, String> event) {
      gone(event);
    }

    private void gone(EntryEvent<String, String> event) {
      if (event.getOldValue() != null) {
        listener.removed(member(event.getKey(), event.getOldValue()));
      }
    }
  }
}
