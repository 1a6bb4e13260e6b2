package io.wakeport.admin;

import io.vertx.core.Future;
import io.wakeport.cluster.Cluster;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.MemberMode;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.util.List;

/**
 * The operator's actions on a tenant or one of its routes, for the JSON API and the console
 * alike: start, stop, restart, drain, disable, standby, enable and weight, through the
 * supervisor's public facade. A refusal fails the future with {@link Refused}, which says the
 * status and error code the API answers with.
 */
final class TenantActions {

  static final List<String> ACTIONS = List.of("start", "stop", "restart", "drain", "disable", "standby", "enable",
      "weight");

  /** Why an action was not done: the HTTP status, the API's error code and a message for a person. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;
    /** Seconds for Retry-After, or -1. */
    final long retryAfterSeconds;

    Refused(int status, String code, String message, long retryAfterSeconds) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
      this.retryAfterSeconds = retryAfterSeconds;
    }

    Refused(int status, String code, String message) {
      this(status, code, message, -1);
    }
  }

  private final Supervisor supervisor;
  private final Cluster cluster;

  TenantActions(Supervisor supervisor, Cluster cluster) {
    this.supervisor = supervisor;
    this.cluster = cluster;
  }

  /**
   * Does {@code action} on every instance of {@code tenant}, or on {@code route}'s alone when not
   * null; completes once done (a start once ready).
   *
   * @param weight    the weight as sent (a number or its text), for {@code weight} only
   * @param principal who asked, for the log
   */
  Future<Void> perform(TenantConfig tenant, String route, String action, Object weight, String principal) {
    if (!ACTIONS.contains(action)) {
      return refuse(404, "no-such-action", "actions are " + String.join(", ", ACTIONS));
    }
    if (tenant.isTemplate()) {
      return refuse(409, "template", tenant.name() + " is a template: its tenants are listed, not controlled here");
    }
    List<InstanceConfig> named = route == null ? tenant.instances() : single(tenant.instance(route));
    if (named.isEmpty()) {
      return refuse(404, "no-such-route", "tenant " + tenant.name() + " has no route " + route);
    }
    // Members on other machines are never started or stopped here: those actions skip them.
    boolean processAction = action.equals("start") || action.equals("stop") || action.equals("restart");
    List<InstanceConfig> targets = processAction ? named.stream().filter(ic -> !ic.isRemote()).toList() : named;
    if (targets.isEmpty()) {
      return refuse(409, "remote", (route == null ? "every route of tenant " + tenant.name() + " is"
          : "route " + route + " of tenant " + tenant.name() + " is") + " served by another machine: wakeport does "
          + "not " + action + " it; drain or disable it instead");
    }
    String reason = "admin " + action + " by " + principal;
    List<Instance> instances = supervisor.instancesOf(tenant).stream()
        .filter(i -> targets.stream().anyMatch(t -> t.route().equals(i.route()))).toList();
    Future<?> done;
    switch (action) {
      case "start" -> done = Future.all(targets.stream()
          .map(ic -> claimed(tenant, ic, "start").compose(v -> supervisor.start(tenant, ic))).toList());
      case "stop" -> done = Future.all(instances.stream().map(i -> supervisor.stop(i, reason)).toList());
      // Claimed as a start is: a restart must not start here an instance placed on another node.
      case "restart" -> done = Future.all(targets.stream().map(ic -> claimed(tenant, ic, "restart")).toList())
          .compose(v -> supervisor.restart(tenant, targets, route != null, reason));
      case "weight" -> {
        Integer w = weight(weight);
        if (w == null) {
          return refuse(400, "bad-request", "weight must be 1 to 100, or 0 for the config's, as {\"weight\": N}"
              + (weight == null ? "" : ", not " + weight));
        }
        if (tenant.instances().size() <= 1) {
          return notBalanced(tenant);
        }
        instances.forEach(i -> supervisor.weight(i, w, reason));
        done = Future.succeededFuture();
      }
      default -> {
        if (tenant.instances().size() <= 1) {
          return notBalanced(tenant);
        }
        MemberMode mode = switch (action) {
          case "drain" -> MemberMode.DRAIN;
          case "disable" -> MemberMode.DISABLED;
          case "standby" -> MemberMode.STANDBY;
          default -> MemberMode.ACTIVE;
        };
        instances.forEach(i -> supervisor.mode(i, mode, reason));
        done = Future.succeededFuture();
      }
    }
    return done.<Void>mapEmpty().recover(cause -> {
      if (cause instanceof Refused) {
        return Future.failedFuture(cause);
      }
      if (cause instanceof StartFailedException sfe) {
        return Future.failedFuture(new Refused(503, "start-failed", "tenant " + tenant.name()
            + " could not be started: " + sfe.getMessage() + " (see its log)", sfe.retryAfterSeconds()));
      }
      return Future.failedFuture(new Refused(500, "failed", action + " failed: " + cause));
    });
  }

  /**
   * A start or restart on a cluster node claims the instance's placement first: placed on another
   * live node, it is not started here (409 naming that node); unplaced, it is placed here when this
   * node's labels admit the tenant (409 otherwise).
   */
  private Future<Void> claimed(TenantConfig tenant, InstanceConfig ic, String action) {
    if (!cluster.enabled()) {
      return Future.succeededFuture();
    }
    String key = Cluster.key(tenant, ic);
    String what = ic.route().isEmpty() ? "tenant " + tenant.name() : "route " + ic.route() + " of tenant " + tenant.name();
    return cluster.claim(key, tenant).recover(cause -> Future.failedFuture(cause instanceof Cluster.Unplaceable
        ? new Refused(409, "labels", what + " is not started on node " + cluster.node() + ": " + cause.getMessage())
        : cause)).compose(owner -> {
          if (owner.equals(cluster.node())) {
            return Future.succeededFuture();
          }
          String command = ic.route().isEmpty() ? tenant.name() : tenant.name() + "/" + ic.route();
          return refuse(409, "placed-elsewhere", what + " is placed on node " + owner + ", not on node " + cluster.node()
              + ": it runs only there; " + action + " it there (wakeport " + action + " " + command + " --config <"
              + owner + "'s config>, or POST " + path(tenant, ic, action) + " on " + owner + "'s admin API)");
        });
  }

  private static String path(TenantConfig tenant, InstanceConfig ic, String action) {
    return "/api/tenants/" + tenant.name() + (ic.route().isEmpty() ? "" : "/routes/" + ic.route()) + "/" + action;
  }

  private static <T> Future<T> refuse(int status, String code, String message) {
    return Future.failedFuture(new Refused(status, code, message));
  }

  /** Drain, disable, standby and weight steer the balancer, which only a tenant with several instances has. */
  private static Future<Void> notBalanced(TenantConfig tenant) {
    return refuse(409, "not-balanced", "tenant " + tenant.name() + " has one instance: drain, disable, standby, "
        + "enable and weight apply to tenants with several routes (stop it instead)");
  }

  private static List<InstanceConfig> single(InstanceConfig ic) {
    return ic == null ? List.of() : List.of(ic);
  }

  private static Integer weight(Object value) {
    try {
      int weight = value instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(value).trim());
      return weight >= 0 && weight <= 100 ? weight : null;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
