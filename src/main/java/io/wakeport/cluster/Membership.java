package io.wakeport.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.wakeport.config.ClusterSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which nodes are in the cluster and what each says of itself: the shared map
 * {@code wakeport.nodes} (each node's name, member id, forward listener, max-running, draining
 * flag, labels and tenant digests), mirrored here, Hazelcast's member list, and the nodes left out for a
 * while because their forward listener refused.
 */
final class Membership {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);
  private static final String NODES = "wakeport.nodes";
  /** How long a node whose forward listener refused is left out of placement. */
  private static final long SUSPECT_MILLIS = 10_000;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final ClusterSettings settings;
  private final String clusterName;
  private final int maxRunning;
  private final String id;
  private final IMap<String, String> nodes;
  /** Mirror of {@code wakeport.nodes}, kept by its entry listener. */
  private final Map<String, JsonObject> knownNodes = new ConcurrentHashMap<>();
  /** Hazelcast member ids in the cluster now. */
  private final Set<String> liveIds = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> suspects = new ConcurrentHashMap<>();
  private final List<Runnable> nodeLeft = new CopyOnWriteArrayList<>();
  private Placements placements;
  private volatile boolean draining;
  private volatile boolean closing;
  private volatile Map<String, String> digests = Map.of();

  Membership(Vertx vertx, HazelcastInstance hz, ClusterSettings settings, String clusterName, int maxRunning,
      String id) {
    this.vertx = vertx;
    this.hz = hz;
    this.settings = settings;
    this.clusterName = clusterName;
    this.maxRunning = maxRunning;
    this.id = id;
    this.nodes = hz.getMap(NODES);
  }

  void join(Placements placements) {
    this.placements = placements;
    for (Member member : hz.getCluster().getMembers()) {
      liveIds.add(member.getUuid().toString());
    }
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        liveIds.add(event.getMember().getUuid().toString());
        log.info("cluster {}: member {} joined; {} member(s) now", clusterName, event.getMember().getAddress(),
            event.getMembers().size());
        // It may have missed our entry while it was apart (a merge): publish again.
        vertx.executeBlocking(() -> {
          publish();
          return null;
        }, false);
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        left(event.getMember().getUuid(), event.getMembers().iterator().hasNext()
            && event.getMembers().iterator().next().localMember());
      }
    });
    nodes.addEntryListener(new Mirror<>(knownNodes, JsonObject::new), true);
    placements.mirror();
    nodes.forEach((k, v) -> knownNodes.put(k, new JsonObject(v)));
    publish();
    List<String> names = new ArrayList<>();
    for (Member member : hz.getCluster().getMembers()) {
      names.add(member.getAddress().getHost() + ":" + member.getAddress().getPort() + (member.localMember() ? " (this)" : ""));
    }
    if (names.size() == 1) {
      log.warn("cluster {}: node {} at {} reached none of the other members {}: running alone until they join",
          clusterName, settings.node(), settings.bind(), settings.members());
    } else {
      log.info("cluster {}: node {} at {} joined; members {}", clusterName, settings.node(), settings.bind(), names);
    }
    log.info("cluster {}: forwarding listener {}; configured members {}", clusterName, settings.forwardListen(),
        settings.members());
  }

  /** A member left: its placements are given back at once (the oldest member writes it; everyone stops sending). */
  private void left(UUID member, boolean oldest) {
    String gone = member.toString();
    liveIds.remove(gone);
    List<String> names = new ArrayList<>();
    knownNodes.forEach((name, info) -> {
      if (gone.equals(info.getString("id"))) {
        names.add(name);
      }
    });
    if (closing) {
      return; // this node is leaving too: the others release
    }
    log.warn("cluster {}: node {} left; {} placement(s) on it released, their tenants start again on a live node "
        + "at their next request", clusterName, names.isEmpty() ? gone : String.join(",", names),
        placements.countOn(names));
    if (!oldest) {
      placements.forget(names); // not sent there again; the oldest member writes the maps
      nodeLeft.forEach(action -> vertx.executeBlocking(() -> {
        action.run();
        return null;
      }, false));
      return;
    }
    placements.forget(names);
    vertx.executeBlocking(() -> {
      placements.release(names);
      for (String name : names) {
        String info = nodes.get(name);
        if (info != null && gone.equals(new JsonObject(info).getString("id"))) {
          nodes.remove(name, info);
        }
      }
      return null;
    }, false).onComplete(ar -> {
      if (ar.failed()) {
        log.warn("cluster {}: releasing the placements of a node that left failed: {}", clusterName,
            ar.cause().toString());
      }
      nodeLeft.forEach(Runnable::run);
    });
  }

  /**
   * Writes this node's entry (blocking). Serialized, and the flag and digests read inside: of
   * publishes racing on worker threads, the last to write carries the newest values.
   */
  synchronized void publish() {
    JsonObject info = new JsonObject().put("node", settings.node()).put("id", id)
        .put("forward", settings.forwardListen()).put("forwardHost", settings.forwardHost())
        .put("forwardPort", settings.forwardPort()).put("maxRunning", maxRunning).put("draining", draining)
        .put("labels", new JsonObject(new TreeMap<String, Object>(settings.labels())))
        .put("digests", new JsonObject(new TreeMap<>(digests)));
    knownNodes.put(settings.node(), info);
    nodes.set(settings.node(), info.encode());
  }

  boolean alive(String node) {
    if (node.equals(settings.node())) {
      return true;
    }
    JsonObject info = knownNodes.get(node);
    if (info == null) {
      return false;
    }
    if (!liveIds.contains(info.getString("id")) && !isMember(info.getString("id"))) {
      return false;
    }
    Long until = suspects.get(node);
    if (until != null) {
      if (until > System.currentTimeMillis()) {
        return false;
      }
      suspects.remove(node, until);
    }
    return true;
  }

  /** Asks Hazelcast's member list itself: a member's join event may come after its first placement. */
  private boolean isMember(String id) {
    for (Member member : hz.getCluster().getMembers()) {
      if (member.getUuid().toString().equals(id)) {
        liveIds.add(id);
        return true;
      }
    }
    return false;
  }

  /** Whether Hazelcast lists {@code node} as a member now (suspected or not). */
  boolean member(String node) {
    JsonObject info = knownNodes.get(node);
    return info != null && (liveIds.contains(info.getString("id")) || isMember(info.getString("id")));
  }

  /** Leaves {@code node} out of placement for a while: its forward listener refused. */
  void suspect(String node) {
    suspects.put(node, System.currentTimeMillis() + SUSPECT_MILLIS);
  }

  static long suspectSeconds() {
    return SUSPECT_MILLIS / 1000;
  }

  /** What {@code node} published, or null. */
  JsonObject info(String node) {
    return knownNodes.get(node);
  }

  /** A node that joined a moment ago may not have reached the mirror yet: reads its entry (blocking). */
  void learn(String node) {
    if (!knownNodes.containsKey(node)) {
      String info = nodes.get(node);
      if (info != null) {
        knownNodes.putIfAbsent(node, new JsonObject(info));
      }
    }
  }

  /** Every node known by name, sorted, with what it published. */
  Map<String, JsonObject> known() {
    return new TreeMap<>(knownNodes);
  }

  /** Whether {@code tenant} is defined on the node that published {@code info} as it is here. */
  boolean sameDefinition(JsonObject info, String tenant) {
    JsonObject theirs = info == null ? null : info.getJsonObject("digests");
    String mine = digests.get(tenant);
    if (theirs == null || mine == null) {
      return true; // not published yet: no evidence of a difference
    }
    return mine.equals(theirs.getString(tenant));
  }

  void definitions(Map<String, String> digests) {
    this.digests = Map.copyOf(digests);
  }

  boolean draining() {
    return draining;
  }

  void draining(boolean draining) {
    this.draining = draining;
  }

  boolean closing() {
    return closing;
  }

  void closing(boolean closing) {
    this.closing = closing;
  }

  void onNodeLeft(Runnable action) {
    nodeLeft.add(action);
  }

  int members() {
    return hz.getCluster().getMembers().size();
  }

  /** Removes this node's entry (blocking), on leaving. */
  void unpublish() {
    nodes.remove(settings.node());
  }
}
