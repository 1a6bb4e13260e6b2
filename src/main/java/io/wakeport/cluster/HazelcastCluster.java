package io.wakeport.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.wakeport.config.ClusterSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node of a wakeport cluster, over Hazelcast (TCP/IP join with the listed members, multicast
 * off). Two shared maps: {@code wakeport.nodes} (each node's name, member id, forward listener,
 * max-running, draining flag and tenant digests) and {@code wakeport.placements} (instance key to
 * the node that serves it). A placement is decided by one {@code putIfAbsent}, so a burst to a
 * cold tenant spread over every node places it once and it is spawned once. Both maps are
 * mirrored here through entry listeners, so a request finds a known placement without a network
 * round trip. When a member leaves, its placements are given back at once (by the oldest member)
 * and every node stops sending to it.
 */
final class HazelcastCluster implements Cluster {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);
  private static final String NODES = "wakeport.nodes";
  private static final String PLACEMENTS = "wakeport.placements";
  /** How long a node whose forward listener refused is left out of placement. */
  private static final long SUSPECT_MILLIS = 10_000;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final ClusterSettings settings;
  private final String clusterName;
  private final ForwardAuth auth;
  private final io.vertx.core.net.ClientSSLOptions forwardTls;
  private final int maxRunning;
  private final String id;
  private final IMap<String, String> nodes;
  private final IMap<String, String> placements;
  /** Mirrors of the two maps, kept by their entry listeners. */
  private final Map<String, JsonObject> knownNodes = new ConcurrentHashMap<>();
  private final Map<String, String> placed = new ConcurrentHashMap<>();
  /** Hazelcast member ids in the cluster now. */
  private final Set<String> liveIds = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> suspects = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> forwardedTo = new ConcurrentHashMap<>();
  private final AtomicLong forwardedIn = new AtomicLong();
  private final Set<String> apartLogged = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;
  private volatile boolean closing;
  private final java.util.List<Runnable> nodeLeft = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Map<String, String> digests = Map.of();

  private HazelcastCluster(Vertx vertx, HazelcastInstance hz, ClusterSettings settings, String clusterName,
      int maxRunning, String id) {
    this.vertx = vertx;
    this.hz = hz;
    this.settings = settings;
    this.clusterName = clusterName;
    this.auth = new ForwardAuth(settings.secret());
    this.forwardTls = ForwardTls.client(settings.tls());
    this.maxRunning = maxRunning;
    this.id = id;
    this.nodes = hz.getMap(NODES);
    this.placements = hz.getMap(PLACEMENTS);
  }

  static Clusters.Started start(ClusterSettings settings, VertxOptions options, int maxRunning) {
    String clusterName = ForwardAuth.clusterName(settings.secret());
    // Read before any Config is: Hazelcast's first lines would otherwise go through java.util.logging.
    System.setProperty("hazelcast.logging.type", "slf4j");
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(settings, clusterName));
    options.getEventBusOptions().setHost(settings.bindHost()).setPort(0);
    Vertx vertx;
    try {
      vertx = Vertx.builder().with(options).withClusterManager(manager).buildClustered().await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.error("cluster {}: node {} cannot start its member at {} ({}): running alone, as a single machine",
          clusterName, settings.node(), settings.bind(), e.toString());
      return new Clusters.Started(SingleMachineLoader.with(() -> Vertx.vertx(options)), Cluster.SINGLE);
    }
    HazelcastInstance hz = manager.getHazelcastInstance();
    HazelcastCluster cluster = new HazelcastCluster(vertx, hz, settings, clusterName, maxRunning,
        hz.getCluster().getLocalMember().getUuid().toString());
    cluster.join();
    return new Clusters.Started(vertx, cluster);
  }

  private static Config hazelcastConfig(ClusterSettings settings, String clusterName) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setInstanceName("wakeport-" + settings.node());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    // Fast failure detection: a member silent for 5 s is out (a killed one's closed connections sooner).
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    // A node that started alone merges with the others soon after they appear.
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    config.setProperty("hazelcast.partition.count", "31");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(settings.bindPort()).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface(settings.bindHost());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2).setMembers(settings.members());
    config.getMapConfig("wakeport.*").setBackupCount(1);
    return config;
  }

  private void join() {
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
    placements.addEntryListener(new Mirror<>(placed, v -> v), true);
    nodes.forEach((k, v) -> knownNodes.put(k, new JsonObject(v)));
    placements.forEach(placed::put);
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

  /** Keeps a local copy of a shared map. */
  private static final class Mirror<V> implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String>, EntryRemovedListener<String, String>,
      EntryEvictedListener<String, String> {
    private final Map<String, V> copy;
    private final java.util.function.Function<String, V> read;

    Mirror(Map<String, V> copy, java.util.function.Function<String, V> read) {
      this.copy = copy;
      this.read = read;
    }

    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      copy.put(event.getKey(), read.apply(event.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      copy.put(event.getKey(), read.apply(event.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> event) {
      gone(event);
    }

    private void gone(EntryEvent<String, String> event) {
      String old = event.getOldValue();
      if (old == null) {
        copy.remove(event.getKey());
      } else {
        copy.remove(event.getKey(), read.apply(old));
      }
    }
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
    long count = placed.values().stream().filter(names::contains).count();
    log.warn("cluster {}: node {} left; {} placement(s) on it released, their tenants start again on a live node "
        + "at their next request", clusterName, names.isEmpty() ? gone : String.join(",", names), count);
    if (!oldest) {
      placed.values().removeIf(names::contains); // not sent there again; the oldest member writes the maps
      nodeLeft.forEach(action -> vertx.executeBlocking(() -> {
        action.run();
        return null;
      }, false));
      return;
    }
    placed.values().removeIf(names::contains);
    vertx.executeBlocking(() -> {
      for (Map.Entry<String, String> e : placements.entrySet()) {
        if (names.contains(e.getValue())) {
          placements.remove(e.getKey(), e.getValue());
        }
      }
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

  private void publish() {
    JsonObject info = new JsonObject().put("node", settings.node()).put("id", id)
        .put("forward", settings.forwardListen()).put("forwardHost", settings.forwardHost())
        .put("forwardPort", settings.forwardPort()).put("maxRunning", maxRunning).put("draining", draining)
        .put("digests", new JsonObject(new TreeMap<>(digests)));
    knownNodes.put(settings.node(), info);
    nodes.set(settings.node(), info.encode());
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public String node() {
    return settings.node();
  }

  private boolean alive(String node) {
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

  private Placement placement(String node, String tenant) {
    if (node.equals(settings.node())) {
      return new Placement(node, settings.forwardHost(), settings.forwardPort(), true);
    }
    JsonObject info = knownNodes.get(node);
    if (!sameDefinition(info, tenant)) {
      if (apartLogged.add(tenant + "@" + node)) {
        log.warn("cluster {}: tenant {} is defined differently on node {} than here: served here, never forwarded "
            + "across nodes until the definitions agree", clusterName, tenant, node);
      }
      return new Placement(settings.node(), settings.forwardHost(), settings.forwardPort(), true);
    }
    return new Placement(node, info.getString("forwardHost"), info.getInteger("forwardPort"), false);
  }

  private boolean sameDefinition(JsonObject info, String tenant) {
    JsonObject theirs = info == null ? null : info.getJsonObject("digests");
    String mine = digests.get(tenant);
    if (theirs == null || mine == null) {
      return true; // not published yet: no evidence of a difference
    }
    return mine.equals(theirs.getString(tenant));
  }

  @Override
  public Future<Placement> place(String key, String tenant) {
    String owner = placed.get(key);
    if (owner != null && alive(owner)) {
      return Future.succeededFuture(placement(owner, tenant));
    }
    return vertx.executeBlocking(() -> {
      String current = placements.get(key);
      if (current != null && !knownNodes.containsKey(current)) {
        // A node that joined a moment ago: its entry may not have reached the mirror yet.
        String info = nodes.get(current);
        if (info != null) {
          knownNodes.putIfAbsent(current, new JsonObject(info));
        }
      }
      if (current != null && !alive(current)) {
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
    Map<String, Integer> load = new TreeMap<>();
    for (String node : placed.values()) {
      load.merge(node, 1, Integer::sum);
    }
    String best = null;
    double bestRoom = Double.NEGATIVE_INFINITY;
    List<String> candidates = new ArrayList<>();
    candidates.add(settings.node());
    knownNodes.keySet().stream().filter(n -> !n.equals(settings.node())).sorted().forEach(candidates::add);
    for (String node : candidates) {
      JsonObject info = knownNodes.get(node);
      if (info == null || !alive(node) || info.getBoolean("draining", false)
          || !node.equals(settings.node()) && !sameDefinition(info, tenant)) {
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

  @Override
  public void servedHere(String key) {
    String owner = placed.get(key);
    if (settings.node().equals(owner) || draining) {
      return;
    }
    vertx.executeBlocking(() -> {
      String prior = placements.putIfAbsent(key, settings.node());
      placed.put(key, prior == null ? settings.node() : prior);
      return null;
    }, false);
  }

  @Override
  public void unreachable(String key, String node) {
    suspects.put(node, System.currentTimeMillis() + SUSPECT_MILLIS);
    placed.remove(key, node);
    log.warn("cluster {}: node {} refused a forwarded request for {}: left out of placement for {} s",
        clusterName, node, key, SUSPECT_MILLIS / 1000);
  }

  @Override
  public void stopped(String key) {
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

  @Override
  public void sign(String node, String method, String target, String host, MultiMap headers) {
    auth.sign(settings.node(), method, target, host, headers);
  }

  @Override
  public io.vertx.core.net.ClientSSLOptions forwardTls() {
    return forwardTls;
  }

  @Override
  public Verified verify(String method, String target, MultiMap headers) {
    return auth.verify(method, target, headers);
  }

  @Override
  public void forwardedTo(String node) {
    forwardedTo.computeIfAbsent(node, n -> new AtomicLong()).incrementAndGet();
  }

  @Override
  public void forwardedIn() {
    forwardedIn.incrementAndGet();
  }

  long forwardedOut() {
    return forwardedTo.values().stream().mapToLong(AtomicLong::get).sum();
  }

  @Override
  public Future<Void> drain() {
    draining = true;
    return vertx.executeBlocking(() -> {
      publish();
      long here = placed.values().stream().filter(settings.node()::equals).count();
      log.info("cluster {}: node {} drains: nothing new is placed here; its {} placement(s) end as their instances "
          + "idle out", clusterName, settings.node(), here);
      return null;
    }, false);
  }

  @Override
  public void definitions(Map<String, String> digests) {
    this.digests = Map.copyOf(digests);
    vertx.executeBlocking(() -> {
      publish();
      return null;
    }, false);
  }

  @Override
  public Future<JsonObject> describe() {
    JsonArray members = new JsonArray();
    Map<String, Integer> load = new TreeMap<>();
    for (String node : placed.values()) {
      load.merge(node, 1, Integer::sum);
    }
    new TreeMap<>(knownNodes).forEach((name, info) -> members.add(new JsonObject().put("node", name)
        .put("id", info.getString("id")).put("forward", info.getString("forward"))
        .put("maxRunning", info.getInteger("maxRunning")).put("draining", info.getBoolean("draining", false))
        .put("alive", alive(name)).put("placements", load.getOrDefault(name, 0))
        .put("self", name.equals(settings.node()))));
    JsonObject forwarded = new JsonObject();
    new TreeMap<>(forwardedTo).forEach((n, c) -> forwarded.put(n, c.get()));
    return Future.succeededFuture(new JsonObject().put("enabled", true).put("cluster", clusterName)
        .put("node", settings.node()).put("draining", draining).put("members", hz.getCluster().getMembers().size())
        .put("nodes", members).put("placements", new JsonObject(new TreeMap<>(placed)))
        .put("forwarded", new JsonObject().put("out", forwarded).put("in", forwardedIn.get())));
  }

  @Override
  public void onNodeLeft(Runnable action) {
    nodeLeft.add(action);
  }

  @Override
  public boolean closed() {
    return closing;
  }

  @Override
  public Future<Void> close() {
    if (closing) {
      return Future.succeededFuture();
    }
    closing = true;
    draining = true;
    return vertx.executeBlocking(() -> {
      for (Map.Entry<String, String> e : placements.entrySet()) {
        if (settings.node().equals(e.getValue())) {
          placements.remove(e.getKey(), e.getValue());
        }
      }
      nodes.remove(settings.node());
      log.info("cluster {}: node {} leaves", clusterName, settings.node());
      return null;
    }, false);
  }
}
