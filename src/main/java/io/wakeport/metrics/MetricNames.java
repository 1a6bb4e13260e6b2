package io.wakeport.metrics;

/**
 * Every metric wakeport defines, as Micrometer names ({@code wakeport.requests}); the Prometheus
 * names add {@code _total} to counters and {@code _seconds} to timers and replace dots with
 * underscores. docs/metrics.md lists them with their tags.
 */
public final class MetricNames {

  /** Counter {tenant, class}: answers by tenant and status class. */
  public static final String REQUESTS = "wakeport.requests";
  /** Timer {class}, a histogram: from the request head to the answer's end. */
  public static final String REQUEST_DURATION = "wakeport.request.duration";
  /** Timer, a histogram: from a start's beginning to ready, for starts that requests waited for. */
  public static final String COLD_START = "wakeport.cold.start";
  /** Counter {tenant}: backend processes spawned. */
  public static final String SPAWNS = "wakeport.spawns";
  /** Counter {tenant}: starts that failed. */
  public static final String START_FAILURES = "wakeport.start.failures";
  /** Counter {tenant}: ready instances whose process was lost. */
  public static final String CRASHES = "wakeport.crashes";
  /** Counter {tenant}: entries into backoff. */
  public static final String BACKOFFS = "wakeport.backoffs";
  /** Counter {tenant}: members on other machines taken out (DOWN) by their health checks. */
  public static final String MEMBERS_DOWN = "wakeport.members.down";
  /** Gauge: members that registered themselves through the admin API, now. */
  public static final String MEMBERS_REGISTERED = "wakeport.members.registered";
  /** Timer {outcome}, a histogram: how long requests waited on a start. */
  public static final String START_WAIT = "wakeport.start.wait";
  /** Counter {reason}: requests refused a start at once (max-queue, backoff). */
  public static final String START_REFUSALS = "wakeport.start.refusals";
  /** Gauge: requests waiting on a start now. */
  public static final String START_WAITING = "wakeport.start.waiting";
  /** Gauge: instances queued for a start slot or for room under max-running now. */
  public static final String START_QUEUED = "wakeport.start.queued";
  /** Gauge: instances with a process of wakeport's (starting, ready or stopping): what max-running counts. */
  public static final String INSTANCES_RUNNING = "wakeport.instances.running";
  /** Gauge {state}: instances by lifecycle state. */
  public static final String INSTANCES = "wakeport.instances";
  /** Gauge: open front connections. */
  public static final String FRONT_CONNECTIONS = "wakeport.front.connections";
  /** Cluster nodes alive as this node sees them (cluster: only). */
  public static final String CLUSTER_NODES = "wakeport.cluster.nodes";
  /** Placements held by each node, by node (cluster: only). */
  public static final String CLUSTER_PLACEMENTS = "wakeport.cluster.placements";
  /** Requests this node forwarded to others, and took from others, since it started (cluster: only). */
  public static final String CLUSTER_FORWARDED_OUT = "wakeport.cluster.forwarded.out";
  public static final String CLUSTER_FORWARDED_IN = "wakeport.cluster.forwarded.in";
  /** Counter {reason}: front connections closed at once by a connection cap. */
  public static final String FRONT_CONNECTIONS_REFUSED = "wakeport.front.connections.refused";

  /** Counter {outcome}: ACME orders that ended with a certificate (issued) or without (failed). */
  public static final String ACME_ORDERS = "wakeport.acme.orders";
  /** Gauge {name}: days until the certificate served for a name ends (negative once it has). */
  public static final String CERTIFICATE_EXPIRY_DAYS = "wakeport.certificate.expiry.days";

  private MetricNames() {}
}
