package io.wakeport.cluster;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;

/**
 * Where each instance runs when wakeport runs on several nodes, and what the nodes tell each
 * other. A single machine (no {@code cluster:} section) has {@link #SINGLE}: every instance is
 * placed here, nothing is shared, and no cluster class beyond this interface is ever loaded.
 */
public interface Cluster {

  /** The headers a forwarded request carries; never taken from the front port. */
  String NODE_HEADER = "x-wakeport-node";
  String TIME_HEADER = "x-wakeport-time";
  String SIGNATURE_HEADER = "x-wakeport-signature";
  String HOST_HEADER = "x-wakeport-host";
  String NONCE_HEADER = "x-wakeport-nonce";
  /** The scheme the client used to the sending node ({@code http} or {@code https}), signed: not the hop's. */
  String SCHEME_HEADER = "x-wakeport-scheme";

  /** A forwarded request's check: the sending node, or (node null) why it is refused, and whether as a replay. */
  record Verified(String node, String refusal, boolean replay) {}

  /**
   * Where an instance is served.
   *
   * @param node        the owning node's name
   * @param forwardHost the owner's forward listener (unused when local)
   * @param forwardPort its port
   * @param local       served by this node
   */
  record Placement(String node, String forwardHost, int forwardPort, boolean local) {}

  /** The one placement of a single machine. */
  Placement HERE = new Placement("", "", 0, true);

  /** Whether placement and forwarding apply at all. */
  boolean enabled();

  /** This node's name ("" on a single machine). */
  String node();

  /**
   * Where the instance {@code key} (tenant state name, or name/route) is served, placing it
   * when no node holds it: once across the cluster, however many nodes ask at once, and only on
   * a node whose labels the tenant's {@code placement.labels} admit. Completes on the caller's
   * context; at once when the placement is known here. Fails with {@link Unplaceable} when no
   * live node may run it.
   */
  Future<Placement> place(String key, TenantConfig tenant);

  /**
   * A start no request asked for (an operator's start, a backend adopted after a restart): holds
   * {@code key} for this node unless a live node holds it already. Completes with the name of the
   * node that holds it now, this one's when it may run here; fails with {@link Unplaceable} when
   * it is unplaced and this node's labels do not admit the tenant.
   */
  Future<String> claim(String key, TenantConfig tenant);

  /** The key an instance is placed by: the tenant's state name, or state name/route. */
  static String key(TenantConfig tenant, InstanceConfig instance) {
    return instance.route().isEmpty() ? tenant.stateName() : tenant.stateName() + "/" + instance.route();
  }

  /** No node may run an instance now; the message says why, for the 503 page, the API and the log. */
  final class Unplaceable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Unplaceable(String message) {
      super(message, null, false, false);
    }
  }

  /** A forwarded request is served here: hold the placement unless another node holds it. */
  void servedHere(String key);

  /**
   * A request forwarded to {@code node} reached nothing of it. Refused (its wakeport is not
   * listening): it is left out of placement for a while and {@code key} placed anew, true. Timed
   * out: its placement is kept while Hazelcast still lists it as a member (it may be alive, only
   * slow or cut off from this node), false; placed anew, true, once it is no member.
   *
   * @return whether the request may be sent to a new placement
   */
  boolean unreachable(String key, String node, boolean refused);

  /**
   * This node's instance {@code key} stopped: its placement is given back, unless
   * {@code stillStopped} says (checked under the same lock as {@link #started}) it started again.
   */
  void stopped(String key, java.util.function.BooleanSupplier stillStopped);

  /** This node's instance {@code key} starts: it holds its placement (again, if a stop gave it back meanwhile). */
  void started(String key);

  /** Adds the forwarding headers of a request to {@code node}, from a client that used {@code scheme}, to {@code headers}. */
  void sign(String node, String method, String target, String host, String scheme, MultiMap headers);

  /** The sending node when {@code headers} carry a valid signature for this request, not used before. */
  Verified verify(String method, String target, MultiMap headers);

  /** TLS of requests forwarded to other nodes (mutual, with {@code cluster.tls}), or null for plain HTTP. */
  default io.vertx.core.net.ClientSSLOptions forwardTls() {
    return null;
  }

  /** Counts a request forwarded to {@code node}. */
  void forwardedTo(String node);

  /** Counts a request taken from another node. */
  void forwardedIn();

  /** Stops placing instances here; those placed here finish and idle out. */
  Future<Void> drain();

  /** Places instances here again after {@link #drain}, without a restart. */
  Future<Void> undrain();

  /** Tells the other nodes what each tenant's definition is here (digests): a tenant defined apart is never forwarded. */
  void definitions(java.util.Map<String, String> digests);

  /** Nodes, placements and forwarded counts, for {@code /api/cluster}. */
  Future<JsonObject> describe();

  /** Runs {@code action} (off the event loops) each time another node leaves the cluster. */
  void onNodeLeft(Runnable action);

  /** Where registered members are shared with the other nodes ({@link io.wakeport.registration.RegistrationSharing#NONE} alone). */
  default io.wakeport.registration.RegistrationSharing registrationSharing() {
    return io.wakeport.registration.RegistrationSharing.NONE;
  }

  /** Leaves the cluster: nothing is placed here from now on, its placements are given back. */
  Future<Void> close();

  /** Whether {@link #close} was called: a node shutting down warms nothing more. */
  default boolean closed() {
    return false;
  }

  Cluster SINGLE = new Cluster() {
    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public String node() {
      return "";
    }

    @Override
    public Future<Placement> place(String key, TenantConfig tenant) {
      return Future.succeededFuture(HERE);
    }

    @Override
    public Future<String> claim(String key, TenantConfig tenant) {
      return Future.succeededFuture("");
    }

    @Override
    public void servedHere(String key) {}

    @Override
    public boolean unreachable(String key, String node, boolean refused) {
      return false;
    }

    @Override
    public void stopped(String key, java.util.function.BooleanSupplier stillStopped) {}

    @Override
    public void started(String key) {}

    @Override
    public void sign(String node, String method, String target, String host, String scheme, MultiMap headers) {}

    @Override
    public Verified verify(String method, String target, MultiMap headers) {
      return new Verified(null, "not a cluster node", false);
    }

    @Override
    public void forwardedTo(String node) {}

    @Override
    public void forwardedIn() {}

    @Override
    public Future<Void> drain() {
      return Future.failedFuture("not a cluster node: the config has no cluster section");
    }

    @Override
    public Future<Void> undrain() {
      return Future.failedFuture("not a cluster node: the config has no cluster section");
    }

    @Override
    public void definitions(java.util.Map<String, String> digests) {}

    @Override
    public Future<JsonObject> describe() {
      return Future.succeededFuture(new JsonObject().put("enabled", false));
    }

    @Override
    public void onNodeLeft(Runnable action) {}

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  };
}
