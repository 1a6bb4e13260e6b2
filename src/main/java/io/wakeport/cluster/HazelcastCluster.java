package io.wakeport.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.wakeport.config.ClusterSettings;
import io.wakeport.config.TenantConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node of a wakeport cluster, over Hazelcast (TCP/IP join with the listed members, multicast
 * off): starts the member and wires its two parts, {@link Membership} (which nodes there are and
 * what each publishes) and {@link Placements} (where each instance runs), and keeps the
 * forwarding bookkeeping (signatures and counts). When a member leaves, its placements are given
 * back at once (by the oldest member) and every node stops sending to it.
 */
final class HazelcastCluster implements Cluster {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);

  private final Vertx vertx;
  private final ClusterSettings settings;
  private final String clusterName;
  private final ForwardAuth auth;
  private final io.vertx.core.net.ClientSSLOptions forwardTls;
  private final Membership membership;
  private final Placements placements;
  /** For the registrations map, made when the node's wiring asks for it. */
  private final HazelcastInstance hz;
  private final Map<String, AtomicLong> forwardedTo = new ConcurrentHashMap<>();
  private final AtomicLong forwardedIn = new AtomicLong();

  private HazelcastCluster(Vertx vertx, HazelcastInstance hz, ClusterSettings settings, String clusterName,
      int maxRunning, String id) {
    this.vertx = vertx;
    this.hz = hz;
    this.settings = settings;
    this.clusterName = clusterName;
    this.auth = new ForwardAuth(settings.node(), settings.secret());
    this.forwardTls = ForwardTls.client(settings.tls());
    this.membership = new Membership(vertx, hz, settings, clusterName, maxRunning, id);
    this.placements = new Placements(vertx, hz, settings, clusterName, membership);
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
    cluster.membership.join(cluster.placements);
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

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public String node() {
    return settings.node();
  }

  @Override
  public Future<Placement> place(String key, TenantConfig tenant) {
    return placements.place(key, tenant);
  }

  @Override
  public Future<String> claim(String key, TenantConfig tenant) {
    return placements.claim(key, tenant);
  }

  @Override
  public void servedHere(String key) {
    placements.servedHere(key);
  }

  @Override
  public boolean unreachable(String key, String node, boolean refused) {
    return placements.unreachable(key, node, refused);
  }

  @Override
  public void stopped(String key, java.util.function.BooleanSupplier stillStopped) {
    placements.stopped(key, stillStopped);
  }

  @Override
  public void started(String key) {
    placements.started(key);
  }

  @Override
  public void sign(String node, String method, String target, String host, String scheme, MultiMap headers) {
    auth.sign(node, method, target, host, scheme, headers);
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
    membership.draining(true);
    return vertx.executeBlocking(() -> {
      membership.publish();
      long here = placements.countOn(List.of(settings.node()));
      log.info("cluster {}: node {} drains: nothing new is placed here; its {} placement(s) end as their instances "
          + "idle out", clusterName, settings.node(), here);
      return null;
    }, false);
  }

  @Override
  public Future<Void> undrain() {
    if (membership.closing()) {
      return Future.failedFuture("node " + settings.node() + " is leaving the cluster");
    }
    membership.draining(false);
    return vertx.executeBlocking(() -> {
      membership.publish();
      log.info("cluster {}: node {} undrained: instances are placed here again", clusterName, settings.node());
      return null;
    }, false);
  }

  @Override
  public void definitions(Map<String, String> digests) {
    membership.definitions(digests);
    vertx.executeBlocking(() -> {
      membership.publish();
      return null;
    }, false);
  }

  @Override
  public Future<JsonObject> describe() {
    JsonArray members = new JsonArray();
    Map<String, Integer> load = placements.load();
    membership.known().forEach((name, info) -> members.add(new JsonObject().put("node", name)
        .put("id", info.getString("id")).put("forward", info.getString("forward"))
        .put("maxRunning", info.getInteger("maxRunning")).put("draining", info.getBoolean("draining", false))
        .put("labels", info.getJsonObject("labels", new JsonObject()))
        .put("alive", membership.alive(name)).put("placements", load.getOrDefault(name, 0))
        .put("self", name.equals(settings.node()))));
    JsonObject forwarded = new JsonObject();
    new TreeMap<>(forwardedTo).forEach((n, c) -> forwarded.put(n, c.get()));
    return Future.succeededFuture(new JsonObject().put("enabled", true).put("cluster", clusterName)
        .put("node", settings.node()).put("draining", membership.draining()).put("members", membership.members())
        .put("nodes", members).put("placements", new JsonObject(placements.all()))
        .put("forwarded", new JsonObject().put("out", forwarded).put("in", forwardedIn.get())));
  }

  @Override
  public io.wakeport.registration.RegistrationSharing registrationSharing() {
    return new SharedRegistrations(vertx, hz.getMap(SharedRegistrations.REGISTRATIONS));
  }

  @Override
  public void onNodeLeft(Runnable action) {
    membership.onNodeLeft(action);
  }

  @Override
  public boolean closed() {
    return membership.closing();
  }

  @Override
  public Future<Void> close() {
    if (membership.closing()) {
      return Future.succeededFuture();
    }
    membership.closing(true);
    membership.draining(true);
    return vertx.executeBlocking(() -> {
      placements.release(List.of(settings.node()));
      membership.unpublish();
      log.info("cluster {}: node {} leaves", clusterName, settings.node());
      return null;
    }, false);
  }
}
