package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.util.ArrayList;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config reloads: brings the instances in line with a new config snapshot, then, sweep by sweep,
 * stops retired instances once their requests are done and replaces changed ones when idle. Only
 * marks and asks: every start and stop is the {@link Supervisor}'s, and everything here runs on
 * the supervisor's context.
 */
final class Reconciliation {

  /** What reconciliation needs of the supervisor; called on the supervisor's context. */
  interface Lifecycle {
    void start(Instance instance, String reason);

    /** Completes when the instance's process tree is gone. */
    Future<Void> stop(Instance instance, String reason);
  }

  /** Logs as the supervisor did before this was split out of it. */
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  private final Vertx vertx;
  private final Map<String, Instance> instances;
  private final Lifecycle lifecycle;

  Reconciliation(Vertx vertx, Map<String, Instance> instances, Lifecycle lifecycle) {
    this.vertx = vertx;
    this.instances = instances;
    this.lifecycle = lifecycle;
  }

  /**
   * Marks each instance for the new snapshot: instances of tenants or routes that are gone are
   * retired (they finish their requests and stop); changed tenants keep running their process and
   * use the new command, environment and port at their next start, or are marked for replacement
   * with {@code on-change: restart}.
   */
  void apply(WakeportConfig config) {
    for (Instance instance : instances.values()) {
      io.wakeport.config.Template derivedFrom = instance.tenant.template();
      if (derivedFrom != null && derivedFrom.label() != null) {
        // Made from a template: it stays while its template does, and takes the template's new
        // settings at its next start (the next request brings them).
        TenantConfig template = config.tenants().get(derivedFrom.name());
        instance.retired = template == null || !template.isTemplate();
        continue;
      }
      TenantConfig tenant = config.tenants().get(instance.tenantName());
      InstanceConfig ic = tenant == null || tenant.isTemplate() ? null : tenant.instance(instance.route());
      if (ic == null) {
        if (!instance.retired) {
          log.info("tenant {}{} left the config: {}", instance.tenantName(),
              instance.route().isEmpty() ? "" : " route " + instance.route(),
              instance.isRemote() ? "no longer checked nor sent requests" : "stopping once its requests are done");
        }
        instance.retired = true;
        instance.keepWarm = false;
        continue;
      }
      instance.retired = false;
      // A member on another machine has no command (RemoteMembers follows its address and check).
      boolean commandChanged = !ic.isRemote() && !instance.config.isRemote()
          && !instance.tenant.launchSpec(instance.config).equals(tenant.launchSpec(ic));
      if (!ic.equals(instance.config)) {
        // The operator's drain, disable, standby or weight was about the instance as it was.
        instance.clearOverrides();
      }
      instance.tenant = tenant;
      instance.config = ic;
      instance.keepWarm = false;
      if (commandChanged && instance.process != null) {
        if (tenant.policy().restartOnChange()) {
          instance.replaceWhenIdle = true;
        } else {
          log.info("tenant {}: command, environment or port changed; pid {} keeps serving until its next stop",
              instance, instance.pid());
        }
      }
    }
  }

  /** Each sweep: retired instances stop when idle; changed ones are replaced, one per tenant at a time. */
  void sweep() {
    for (Instance instance : new ArrayList<>(instances.values())) {
      if (instance.retired && instance.state() != InstanceState.STOPPING) {
        retireWhenIdle(instance);
      } else if (instance.replaceWhenIdle && instance.state() == InstanceState.READY && replaceable(instance)) {
        replaceNow(instance);
      }
    }
  }

  private void retireWhenIdle(Instance instance) {
    switch (instance.state()) {
      case READY -> {
        if (instance.inFlight() > 0) {
          return;
        }
        instance.suspendReady();
        if (instance.inFlight() > 0) {
          instance.resumeReady();
          return;
        }
        lifecycle.stop(instance, "removed from the config").onComplete(ar -> forgetIfRetired(instance));
      }
      case STARTING -> { } // let it finish: its waiters were routed before the change
      default -> forgetIfRetired(instance);
    }
  }

  private void forgetIfRetired(Instance instance) {
    if (instance.retired && instance.state() != InstanceState.STARTING && instance.state() != InstanceState.READY
        && instance.state() != InstanceState.STOPPING && instance.inFlight() == 0) {
      if (instance.backoffTimer >= 0) {
        vertx.cancelTimer(instance.backoffTimer);
      }
      instances.remove(instance.key, instance);
    }
  }

  /** One instance of a tenant is replaced at a time, so the others keep serving. */
  private boolean replaceable(Instance instance) {
    if (instance.inFlight() > 0) {
      return false;
    }
    for (Instance other : instances.values()) {
      if (other != instance && other.tenantName().equals(instance.tenantName())
          && (other.state() == InstanceState.STOPPING || other.state() == InstanceState.STARTING)) {
        return false;
      }
    }
    return true;
  }

  private void replaceNow(Instance instance) {
    instance.suspendReady();
    if (instance.inFlight() > 0) {
      instance.resumeReady();
      return;
    }
    instance.replaceWhenIdle = false;
    lifecycle.stop(instance, "command changed (on-change: restart)").onComplete(ar -> {
      if (instance.state() == InstanceState.STOPPED && !instance.retired) {
        lifecycle.start(instance, "replacing after a config change");
      }
    });
  }
}
