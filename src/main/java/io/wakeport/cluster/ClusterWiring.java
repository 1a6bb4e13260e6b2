package io.wakeport.cluster;


import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.metrics.Metrics;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.Supervisor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a cluster node adds to a wakeport: placements given back when instances stop, digests, gauges. */
public final class ClusterWiring {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Cluster.class);

  private ClusterWiring() {}

  public static void wire(Cluster cluster, Supervisor supervisor, Metrics metrics, WakeportConfig config,
      java.util.function.Supplier<WakeportConfig> current) {
    supervisor.onLifecycle(event -> {
      boolean stopped = event.to() == InstanceState.STOPPED || event.to() == InstanceState.CRASHED;
      if (stopped || event.to() == InstanceState.STARTING) {
        // By its key (a template's tenant is placed by its state name, not the name events carry).
        for (io.wakeport.supervision.Instance instance : supervisor.instances()) {
          if (instance.tenantName().equals(event.tenant()) && instance.route().equals(event.route())
              && instance.state() == event.to() && !instance.isRemote()) {
            if (stopped) {
              // Checked again when the placement is given back: a request or a restart may start it meanwhile.
              cluster.stopped(instance.key(), () -> stoppedState(instance.state()));
            } else {
              cluster.started(instance.key());
            }
          }
        }
      }
    });
    cluster.definitions(digests(config));
    claimRunning(cluster, supervisor, config);
    ClusterGauges.register(cluster, metrics);
    warm(cluster, supervisor, config);
    cluster.onNodeLeft(() -> warm(cluster, supervisor, current.get()));
  }

  private static boolean stoppedState(InstanceState state) {
    return state == InstanceState.STOPPED || state == InstanceState.CRASHED || state == InstanceState.BACKOFF;
  }

  /**
   * Backends running before the node joined (adopted from an earlier run) claim their placement;
   * one whose instance another live node holds, or whose tenant's labels this node lacks, is
   * stopped: an instance never runs twice.
   */
  static void claimRunning(Cluster cluster, Supervisor supervisor, WakeportConfig config) {
    for (io.wakeport.supervision.Instance instance : supervisor.instances()) {
      TenantConfig tenant = config.tenants().get(instance.tenantName());
      if (tenant == null || instance.isRemote() || !instance.running()) {
        continue;
      }
      cluster.claim(instance.key(), tenant).onComplete(ar -> {
        if (ar.succeeded() && ar.result().equals(cluster.node())) {
          return;
        }
        if (ar.failed() && !(ar.cause() instanceof Cluster.Unplaceable)) {
          log.warn("cluster: the running backend of {} could not claim its placement ({}): kept", instance.key(),
              ar.cause().toString());
          return;
        }
        String why = ar.succeeded() ? "its instance is placed on node " + ar.result() : ar.cause().getMessage();
        log.warn("cluster: backend of {} (pid {}) left by an earlier run is stopped: {}; an instance never runs twice",
            instance.key(), instance.pid(), why);
        supervisor.stop(instance, "adopted, but " + why);
      });
    }
  }

  /**
   * Places each tenant's first {@code min-running} instances like a request would, and keeps
   * warm those placed here: once across the cluster, not on every node. Again when a node leaves.
   */
  public static void warm(Cluster cluster, Supervisor supervisor, WakeportConfig config) {
    for (TenantConfig tenant : config.tenants().values()) {
      int warm = tenant.policy().minRunning();
      if (tenant.isTemplate() || warm <= 0) {
        continue;
      }
      for (int i = 0; i < Math.min(warm, tenant.instances().size()); i++) {
        io.wakeport.config.InstanceConfig instance = tenant.instances().get(i);
        if (instance.isRemote()) {
          continue;
        }
        cluster.place(Cluster.key(tenant, instance), tenant).onSuccess(placement -> {
          if (placement.local() && !cluster.closed()) {
            supervisor.warm(tenant, instance, "keep-warm (min-running " + warm + "), placed on this node");
          }
        });
      }
    }
  }

  /**
   * A digest per tenant of its definition as this node reads it, leaving out what differs from
   * machine to machine without changing the tenant: where the config and state directories are,
   * and the ports assigned from a range.
   */
  public static Map<String, String> digests(WakeportConfig config) {
    Map<String, String> digests = new LinkedHashMap<>();
    String base = config.file().getParent().toString();
    String state = config.stateDir().toString();
    for (TenantConfig tenant : config.tenants().values()) {
      String text = tenant.toString().replace(state, "<state-dir>").replace(base, "<config-dir>")
          .replaceAll("port=\\d+", "port=?").replaceAll("@[0-9a-f]{4,8}\\b", "@?");
      try {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        digests.put(tenant.name(), java.util.HexFormat.of().formatHex(digest, 0, 12));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return digests;
  }
}
