package io.wakeport.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.wakeport.config.ClusterSettings;
import io.wakeport.config.PlacementPolicy;
import io.wakeport.config.TenantConfig;
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
  /** Keys whose requests found no node to run on, logged once until they are placed. */
  private final Set<String> unplaceableLogged = ConcurrentHashMap.newKeySet();
  /**
   * Held around giving back a placement and holding it again as an instance here stops and
   * starts: a stop's give-back checks the instance is still stopped inside it, and a start's hold
   * runs after it, so a start racing a stop never leaves a running instance without its placement.
   */
  private final Object lifecycle = new Object();

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

  Future<Cluster.Placement> place(String key, TenantConfig tenant) {
    String owner = placed.get(key);
    if (owner != null && membership.alive(owner)) {
      return Future.succeededFuture(placement(owner, tenant.name()));
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
        String choice;
        try {
          choice = choose(tenant);
        } catch (Cluster.Unplaceable e) {
          if (unplaceableLogged.add(key)) {
            log.warn("cluster {}: {} is not started anywhere: {}; its requests are answered 503", clusterName, key,
                e.getMessage());
          }
          throw e;
        }
        String prior = placements.putIfAbsent(key, choice);
        current = prior == null ? choice : prior;
        if (prior == null) {
          log.info("cluster {}: {} placed on node {}", clusterName, key, choice);
        }
      }
      unplaceableLogged.remove(key);
      placed.put(key, current);
      return placement(current, tenant.name());
    }, false);
  }

  /**
   * Claims {@code key} for this node, for a start no request asked for; the node that holds it
   * now. A dead holder's claim is removed first; an unplaced instance is claimed here only when
   * this node's labels admit the tenant (draining or not: an operator asked, or it runs already).
   */
  Future<String> claim(String key, TenantConfig tenant) {
    return vertx.executeBlocking(() -> {
      String current = placements.get(key);
      if (current != null) {
        membership.learn(current);
        if (!membership.alive(current)) {
          placements.remove(key, current);
          current = null;
        }
      }
      if (current == null) {
        if (!tenant.placement().admits(settings.labels())) {
          throw new Cluster.Unplaceable("tenant " + tenant.name() + " needs nodes labelled "
              + PlacementPolicy.describe(tenant.placement().labels()) + " and node " + settings.node() + " has "
              + (settings.labels().isEmpty() ? "no labels" : "the labels " + PlacementPolicy.describe(settings.labels())));
        }
        String prior = placements.putIfAbsent(key, settings.node());
        current = prior == null ? settings.node() : prior;
        if (prior == null) {
          log.info("cluster {}: {} placed on node {} (a start on this node)", clusterName, key, current);
        }
      }
      placed.put(key, current);
      return current;
    }, false);
  }

  /**
   * The live, not draining node whose labels the tenant admits with the most room under its
   * max-running; this one on a tie. When each such node drains: this one all the same if it may
   * run the tenant, else {@link Cluster.Unplaceable}.
   */
  private String choose(TenantConfig tenant) {
    PlacementPolicy policy = tenant.placement();
    List<String> drainingMatches = new ArrayList<>();
    Map<String, Integer> load = load();
    String best = null;
    double bestRoom = Double.NEGATIVE_INFINITY;
    Map<String, JsonObject> known = membership.known();
    List<String> candidates = new ArrayList<>();
    candidates.add(settings.node());
    known.keySet().stream().filter(n -> !n.equals(settings.node())).forEach(candidates::add);
    for (String node : candidates) {
      JsonObject info = known.get(node);
      if (info == null || !membership.alive(node)
          || !node.equals(settings.node()) && !membership.sameDefinition(info, tenant.name())
          || !policy.admits(labels(info))) {
        continue;
      }
      if (info.getBoolean("draining", false)) {
        drainingMatches.add(node);
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
    if (best != null) {
      return best;
    }
    if (policy.admits(settings.labels())) {
      return settings.node(); // everyone draining: here all the same
    }
    String needs = "tenant " + tenant.name() + " needs nodes labelled " + PlacementPolicy.describe(policy.labels());
    throw new Cluster.Unplaceable(drainingMatches.isEmpty() ? needs + " and no live node has those labels"
        : needs + " and the node(s) that have them drain: " + String.join(", ", drainingMatches));
  }

  private static Map<String, String> labels(JsonObject info) {
    Map<String, String> labels = new TreeMap<>();
    info.getJsonObject("labels", new JsonObject()).forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue())));
    return labels;
  }

  void servedHere(String key) {
    String owner = placed.get(key);
    // Held here already, or by another live node (which keeps it): nothing to write, no Hazelcast
    // round trip per forwarded request.
    if (settings.node().equals(owner) || membership.draining() || owner != null && membership.alive(owner)) {
      return;
    }
    vertx.executeBlocking(() -> {
      String prior = placements.putIfAbsent(key, settings.node());
      placed.put(key, prior == null ? settings.node() : prior);
      return null;
    }, false);
  }

  boolean unreachable(String key, String node, boolean refused) {
    if (!refused && membership.member(node)) {
      log.warn("cluster {}: a connect to node {} for a forwarded request for {} timed out; it is still a member, "
          + "so {} stays placed there (answered 504) until it answers or Hazelcast ends its membership",
          clusterName, node, key, key);
      return false;
    }
    membership.suspect(node);
    placed.remove(key, node);
    log.warn("cluster {}: node {} was unreachable for a forwarded request for {} ({}): left out of placement for {} s",
        clusterName, node, key, refused ? "connect refused" : "connect timed out, and no longer a member",
        Membership.suspectSeconds());
    return true;
  }

  void stopped(String key, java.util.function.BooleanSupplier stillStopped) {
    if (!settings.node().equals(placed.get(key))) {
      return;
    }
    vertx.executeBlocking(() -> {
      synchronized (lifecycle) {
        if (stillStopped.getAsBoolean() && placements.remove(key, settings.node())) {
          placed.remove(key, settings.node());
        }
      }
      return null;
    }, false);
  }

  void started(String key) {
    if (membership.closing()) {
      return; // leaving: its placements were given back, the others place anew
    }
    vertx.executeBlocking(() -> {
      synchronized (lifecycle) {
        String prior = placements.putIfAbsent(key, settings.node());
        String holder = prior == null ? settings.node() : prior;
        placed.put(key, holder);
        if (!holder.equals(settings.node())) {
          membership.learn(holder);
          log.warn("cluster {}: {} starts on this node while placed on node {}", clusterName, key, holder);
        }
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
