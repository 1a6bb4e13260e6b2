package io.wakeport.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.wakeport.config.ClusterSettings;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each instance runs: the shared map {@code wakeport.placements} (instance key to the node
 * that serves it) and its local mirror. A placement is decided by one {@code putIfAbsent}, so a
 * burst to a cold tenant spread over every node places it once and it is spawned once; a request
 * finds a known placement in the mirror without a network round trip.
 */
final class Placements {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);
  private static final String PLACEMENTS = "wakeport.placements";

  private final Vertx vertx;
  private final ClusterSettings settings;
  private final String clusterName;
  private final Membership membership;
  private final IMap<String, String> placements;
  /** Mirror of {@code wakeport.placements}, kept by its entry listener. */
  private final Map<String, String> placed = new ConcurrentHashMap<>();
  private final Set<String> apartLogged = ConcurrentHashMap.newKeySet();

  Placements(Vertx vertx, HazelcastInstance hz, ClusterSettings settings, String clusterName, Membership membership) {
    this.vertx = vertx;
    this.settings = settings;
    this.clusterName = clusterName;
    this.membership = membership;
    this.placements = hz.getMap(PLACEMENTS);
  }

  /** Starts mirroring the shared map (blocking). */
  void mirror() {
    placements.addEntryListener(new Mirror<>(placed, v -> v), true);
    placements.forEach(placed::put);
  }

  private Cluster.Placement placement(String node, String tenant) {
    if (node.equals(settings.node())) {
      return new Cluster.Placement(node, settings.forwardHost(), settings.forwardPort(), true);
    }
    JsonObject info = membership.info(node);
    if (!membership.sameDefinition(info, tenant)) {
      if (apartLogged.add(tenant + "@" + node)) {
        log.warn("cluster {}: tenant {} is defined differently on node {} than here: served here, never forwarded "
            + "across nodes until the definitions agree", clusterName, tenant, node);
      }
      return new Cluster.Placement(settings.node(), settings.forwardHost(), settings.forwardPort(), true);
    }
    return new Cluster.Placement(node, info.getString("forwardHost"), info.getInteger("forwardPort"), false);
  }

  Future<Cluster.Placement> place(String key, String tenant) {
    String owner = placed.get(key);
    if (owner != null && membership.alive(owner)) {
      return Future.succeededFuture(placement(owner, tenant));
    }
    return vertx.executeBlocking(() -> {
      String current = placements.get(key);
      if (current != null) {
        membership.learn(current);
      }
      if (current != null && !membership.alive(current)) {
        placements.remove(key, current);
        current = null;
      }
      if (current == null) {
        String choice = choose(tenant);
        String prior = placements.putIfAbsent(key, choice);
        current = prior == null ? choice : prior;
        if (prior == null) {
          log.info("cluster {}: {} placed on node {}", clusterName, key, choice);
        }
      }
      placed.put(key, current);
      return placement(current, tenant);
    }, false);
  }

  /** The live, not draining node with the most room under its max-running; this one on a tie. */
  private String choose(String tenant) {
    Map<String, Integer> load = load();
    String best = null;
    double bestRoom = Double.NEGATIVE_INFINITY;
    Map<String, JsonObject> known = membership.known();
    List<String> candidates = new ArrayList<>();
    candidates.add(settings.node());
    known.keySet().stream().filter(n -> !n.equals(settings.node())).forEach(candidates::add);
    for (String node : candidates) {
      JsonObject info = known.get(node);
      if (info == null || !membership.alive(node) || info.getBoolean("draining", false)
          || !node.equals(settings.node()) && !membership.sameDefinition(info, tenant)) {
        continue;
      }
      int max = info.getInteger("maxRunning", 0);
      int used = load.getOrDefault(node, 0);
      double room = max <= 0 ? Double.MAX_VALUE / 2 - used : max - used;
      if (room > bestRoom) {
        bestRoom = room;
        best = node;
      }
    }
    return best == null ? settings.node() : best; // everyone draining: here all the same
  }

  void servedHere(String key) {
    String owner = placed.get(key);
    if (settings.node().equals(owner) || membership.draining()) {
      return;
    }
    vertx.executeBlocking(() -> {
      String prior = placements.putIfAbsent(key, settings.node());
      placed.put(key, prior == null ? settings.node() : prior);
      return null;
    }, false);
  }

  void unreachable(String key, String node) {
    membership.suspect(node);
    placed.remove(key, node);
    log.warn("cluster {}: node {} refused a forwarded request for {}: left out of placement for {} s",
        clusterName, node, key, Membership.suspectSeconds());
  }

  void stopped(String key) {
    if (!settings.node().equals(placed.get(key))) {
      return;
    }
    vertx.executeBlocking(() -> {
      if (placements.remove(key, settings.node())) {
        placed.remove(key, settings.node());
      }
      return null;
    }, false);
  }

  /** Placements per node, as mirrored here. */
  Map<String, Integer> load() {
    Map<String, Integer> load = new TreeMap<>();
    for (String node : placed.values()) {
      load.merge(node, 1, Integer::sum);
    }
    return load;
  }

  /** Every placement as mirrored here, sorted by key. */
  Map<String, Object> all() {
    return new TreeMap<String, Object>(placed);
  }

  long countOn(Collection<String> nodes) {
    return placed.values().stream().filter(nodes::contains).count();
  }

  /** Stops sending to {@code nodes} (they left), without writing the shared map. */
  void forget(Collection<String> nodes) {
    placed.values().removeIf(nodes::contains);
  }

  /** Gives back the placements of {@code nodes} in the shared map (blocking). */
  void release(Collection<String> nodes) {
    for (Map.Entry<String, String> e : placements.entrySet()) {
      if (nodes.contains(e.getValue())) {
        placements.remove(e.getKey(), e.getValue());
      }
    }
  }
}
