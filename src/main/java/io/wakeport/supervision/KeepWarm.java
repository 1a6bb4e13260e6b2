package io.wakeport.supervision;

import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.util.function.BiFunction;

/**
 * The room that keeps instances warm: a tenant's first {@code min-running} instances are marked
 * keep-warm (never idle-stopped) and started when they are down. In a cluster the nodes warm only
 * what the cluster places on them ({@link #byPlacement}). Runs on the supervisor's context.
 */
final class KeepWarm {

  private final Spawning spawning;
  private final BiFunction<TenantConfig, InstanceConfig, Instance> instanceFor;
  private volatile boolean byPlacement;

  KeepWarm(Spawning spawning, BiFunction<TenantConfig, InstanceConfig, Instance> instanceFor) {
    this.spawning = spawning;
    this.instanceFor = instanceFor;
  }

  /** From now on only {@link #warm} warms: the cluster decides which node runs a keep-warm instance. */
  void byPlacement() {
    byPlacement = true;
  }

  /** Marks each tenant's first {@code min-running} instances keep-warm and starts those that are down. */
  void apply(WakeportConfig config) {
    if (byPlacement) {
      return;
    }
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        continue;
      }
      int warm = tenant.policy().minRunning();
      for (int i = 0; i < Math.min(warm, tenant.instances().size()); i++) {
        if (tenant.instances().get(i).isRemote()) {
          continue; // another machine's: up or down, never started
        }
        warm(tenant, tenant.instances().get(i), "keep-warm (min-running " + warm + ")");
      }
    }
  }

  /** Marks {@code config}'s instance of {@code tenant} keep-warm here and starts it if it is down. */
  void warm(TenantConfig tenant, InstanceConfig config, String reason) {
    Instance instance = instanceFor.apply(tenant, config);
    instance.tenant = tenant;
    instance.keepWarm = true;
    if (instance.state() == InstanceState.STOPPED || instance.state() == InstanceState.CRASHED) {
      spawning.start(instance, reason);
    }
  }
}
