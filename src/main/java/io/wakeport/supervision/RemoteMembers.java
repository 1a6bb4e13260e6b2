package io.wakeport.supervision;

import io.vertx.core.Vertx;
import io.wakeport.config.HealthCheck;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.RemoteMember;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.health.HealthProbes;
import io.wakeport.health.LiveErrors;
import io.wakeport.health.LiveOutcome;
import io.wakeport.health.RiseFall;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Members on other machines ({@code address:}): keeps one health check going per member, on the
 * supervisor's context (an event loop), each run {@code interval} after the last one ended, so
 * never two at once; turns their results into UP and DOWN through {@link Instance#transition}
 * (HAProxy's {@code check inter rise fall}). A reload that leaves a member as it was keeps its
 * checks and state; a changed check keeps the state under the new settings; a changed address
 * starts over; a member gone from the config is no longer checked. With passive checks
 * ({@code check.observe}), errors in a member's live traffic take it DOWN at once, and its active
 * check brings it back.
 */
final class RemoteMembers {

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  /** One member's checks: its timer, whether one runs now, and its rise/fall count. */
  private static final class Watch {
    final Instance instance;
    RemoteMember member;
    RiseFall health;
    long timer = -1;
    boolean inFlight;
    boolean stopped;
    String lastFailure;

    Watch(Instance instance, RemoteMember member) {
      this.instance = instance;
      this.member = member;
      this.health = new RiseFall(member.check().rise(), member.check().fall());
    }
  }

  private final Vertx vertx;
  private final HealthProbes probes;
  private final io.wakeport.metrics.Metrics metrics;
  /** By instance key; confined to the supervisor's context. */
  private final Map<String, Watch> watches = new HashMap<>();

  RemoteMembers(Vertx vertx, HealthProbes probes, io.wakeport.metrics.Metrics metrics) {
    this.vertx = vertx;
    this.probes = probes;
    this.metrics = metrics;
  }

  /**
   * Watches every remote member of {@code config} (made with {@code instanceFor}), and stops
   * watching those that left it or are started here now. On the supervisor's context, after
   * {@link Reconciliation#apply}, which has handed each instance its new config.
   */
  void sync(WakeportConfig config, BiFunction<TenantConfig, InstanceConfig, Instance> instanceFor) {
    Map<String, Watch> kept = new HashMap<>();
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        continue;
      }
      for (InstanceConfig ic : tenant.instances()) {
        if (!ic.isRemote()) {
          continue;
        }
        Instance instance = instanceFor.apply(tenant, ic);
        instance.tenant = tenant;
        instance.config = ic;
        Watch watch = watches.remove(instance.key);
        kept.put(instance.key, watch == null ? begin(instance, ic.remote()) : update(watch, ic.remote()));
      }
    }
    for (Watch gone : watches.values()) {
      stop(gone);
      if (!gone.instance.retired && gone.instance.config != null && !gone.instance.config.isRemote()) {
        // Its route is started here now: stopped until a request starts it.
        gone.instance.serveHere();
        gone.instance.transition(InstanceState.STOPPED, "now started here, on port " + gone.instance.config.port());
      }
    }
    watches.clear();
    watches.putAll(kept);
  }

  private Watch begin(Instance instance, RemoteMember member) {
    if (!instance.isRemote()) {
      if (instance.process != null || instance.state() == InstanceState.STARTING
          || instance.state() == InstanceState.STOPPING) {
        log.warn("tenant {}: route {} now has address {}, but a process of ours still serves it: stop it "
            + "(wakeport stop {}/{}) to switch", instance.tenantName(), instance.route(), member.address(),
            instance.tenantName(), instance.route());
      }
      instance.serveFrom(member);
      instance.transition(InstanceState.UP, "served at " + member.address() + " from now on");
    } else if (!sameMachine(member, instance.remote())) {
      // Left and came back at another address before it was forgotten (a registered member
      // again, a route re-added by a reload): served there, known nothing of, UP until checked.
      instance.serveFrom(member);
      if (instance.state() != InstanceState.UP) {
        instance.transition(InstanceState.UP, "served at " + member.address() + " from now on");
      } else {
        instance.resumeReady(); // the warm path's backend now points at the new address
      }
    }
    Watch watch = new Watch(instance, member);
    schedule(watch, 0);
    return watch;
  }

  private Watch update(Watch watch, RemoteMember member) {
    if (member.equals(watch.member)) {
      return watch; // unchanged: same timer, same state
    }
    if (!sameMachine(member, watch.member)) {
      // Another machine: what was known of the old one says nothing of it.
      stop(watch);
      watch.instance.serveFrom(member);
      if (watch.instance.state() != InstanceState.UP) {
        watch.instance.transition(InstanceState.UP, "address changed to " + member.address());
      } else {
        watch.instance.resumeReady(); // the warm path's backend now points at the new address
      }
      return begin(watch.instance, member);
    }
    HealthCheck check = member.check();
    boolean wasUnchecked = watch.member.check().kind() == HealthCheck.Kind.NONE;
    watch.instance.serveFrom(member);
    watch.member = member;
    watch.health = watch.health.with(check.rise(), check.fall());
    if (check.kind() == HealthCheck.Kind.NONE) {
      if (watch.timer >= 0) {
        vertx.cancelTimer(watch.timer);
        watch.timer = -1;
      }
      if (watch.instance.state() == InstanceState.DOWN) {
        watch.instance.transition(InstanceState.UP, "no longer checked (check: false)");
      }
    } else if (wasUnchecked) {
      schedule(watch, 0);
    }
    return watch;
  }

  /**
   * Counts what a live request found at {@code instance} (passive checks), on the request's event
   * loop: true when its errors now call for {@link #takeDown}. False for a member without passive
   * checks and for an instance here.
   */
  static boolean observed(Instance instance, LiveOutcome outcome) {
    LiveErrors live = instance.liveErrors;
    return live != null && live.count(outcome);
  }

  /**
   * Takes an UP member DOWN on its errors in live traffic, without waiting for its active check
   * (HAProxy's {@code on-error mark-down}); that check brings it back after {@code rise} passes,
   * the first at most {@code interval} from now. On the supervisor's context.
   */
  void takeDown(Instance instance) {
    Watch watch = watches.get(instance.key);
    LiveErrors live = instance.liveErrors;
    if (watch == null || watch.instance != instance || watch.stopped || live == null
        || instance.state() != InstanceState.UP) {
      return; // down already, or no longer checked this way: nothing to take out
    }
    watch.health.takeDown();
    int errors = live.observe().errors();
    instance.transition(InstanceState.DOWN, errors + " error" + (errors == 1 ? "" : "s") + " in a row in live traffic: "
        + live.lastError());
    metrics.memberDown(instance.tenant);
  }

  /**
   * A registered member came, moved or left ({@code to} UP or DOWN): an event of the instance like
   * any state change. Nothing for an instance that is unknown or not remote. On the supervisor's context.
   */
  void changed(Instance instance, InstanceState to, String reason) {
    if (instance != null && instance.isRemote()) {
      instance.transition(to, reason);
    }
  }

  /** What a request for a remote member that is down fails with: its Retry-After about when checks could bring it back. */
  static StartFailedException down(TenantConfig tenant, InstanceConfig config) {
    RemoteMember member = config.remote();
    HealthCheck check = member.check();
    long millis = check.interval().toMillis() * check.rise();
    int retryAfter = (int) Math.max(1, Math.min(300, (millis + 999) / 1000));
    return new StartFailedException(tenant.name(), "route " + config.route() + " is down (at " + member.address() + ")",
        retryAfter);
  }

  private static boolean sameMachine(RemoteMember a, RemoteMember b) {
    return b != null && a.host().equals(b.host()) && a.port() == b.port() && a.tls() == b.tls();
  }

  private void schedule(Watch watch, long delayMillis) {
    if (watch.stopped) {
      return;
    }
    if (delayMillis <= 0) {
      runCheck(watch);
    } else {
      watch.timer = vertx.setTimer(delayMillis, t -> {
        watch.timer = -1;
        runCheck(watch);
      });
    }
  }

  private void runCheck(Watch watch) {
    if (watch.stopped || watch.inFlight) {
      return;
    }
    RemoteMember member = watch.member;
    if (member.check().kind() == HealthCheck.Kind.NONE) {
      return; // always up: nothing to run, ever
    }
    watch.inFlight = true;
    probes.check(member, watch.instance.tls()).onComplete(ar -> {
      watch.inFlight = false;
      if (watch.stopped) {
        return;
      }
      String failure = ar.succeeded() ? ar.result() : String.valueOf(ar.cause());
      record(watch, failure);
      schedule(watch, watch.member.check().interval().toMillis());
    });
  }

  private void record(Watch watch, String failure) {
    Instance instance = watch.instance;
    String check = watch.member.check().describe();
    if (failure == null) {
      if (watch.health.passed()) {
        LiveErrors live = instance.liveErrors;
        if (live != null) {
          live.reset();
        }
        instance.transition(InstanceState.UP, watch.member.check().rise() + " passed " + check + " checks");
      }
      return;
    }
    watch.lastFailure = failure;
    if (watch.health.failed()) {
      int failures = watch.health.lastFailures();
      instance.transition(InstanceState.DOWN, failures + " failed " + check + " check" + (failures == 1 ? "" : "s")
          + ": " + failure);
      metrics.memberDown(instance.tenant);
    } else if (watch.health.up()) {
      log.debug("tenant {}: route {} failed a {} check ({}): {} of {}", instance.tenantName(), instance.route(), check,
          failure, watch.health.streak(), watch.member.check().fall());
    }
  }

  private void stop(Watch watch) {
    watch.stopped = true;
    if (watch.timer >= 0) {
      vertx.cancelTimer(watch.timer);
      watch.timer = -1;
    }
  }

  /** Members checked now, for tests and the log: how many. */
  int watched() {
    return watches.size();
  }

  /** Stops every check (wakeport exits). */
  void close() {
    for (Iterator<Watch> it = watches.values().iterator(); it.hasNext(); ) {
      stop(it.next());
      it.remove();
    }
  }
}
