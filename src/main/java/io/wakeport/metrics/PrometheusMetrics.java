package io.wakeport.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.wakeport.config.Template;
import io.wakeport.config.TenantConfig;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.DoubleSupplier;

/**
 * Metrics in Micrometer's Prometheus registry (the Prometheus 1.x client underneath), with the
 * JVM's and the process's own bound at construction.
 *
 * <p>Cardinality stays bounded with 10,000 tenants: a tenant's request counter exists only for the
 * status classes it answered, derived tenants count under their template, and the duration
 * histograms are by status class only (a histogram per tenant would be about 20 series each).
 */
public final class PrometheusMetrics implements Metrics {

  /** The tenant tag of answers no tenant gave: '-' is in no tenant name. */
  public static final String NO_TENANT = "-";
  private static final String[] CLASSES = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

  private static final Duration[] REQUEST_BUCKETS = millis(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000,
      10_000, 30_000, 60_000);
  private static final Duration[] START_BUCKETS = millis(10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
      60_000, 120_000);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, TenantMeters> tenants = new ConcurrentHashMap<>();
  private final TenantMeters noTenant;
  private final Timer[] durations = new Timer[CLASSES.length];
  private final Timer coldStarts;
  private final Timer waitsReady;
  private final Timer waitsFailed;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  PrometheusMetrics() {
    for (int c = 0; c < CLASSES.length; c++) {
      durations[c] = Timer.builder(MetricNames.REQUEST_DURATION)
          .description("Answers from the request head to the end of the answer, by status class")
          .tag("class", CLASSES[c])
          .serviceLevelObjectives(REQUEST_BUCKETS)
          .register(registry);
    }
    coldStarts = Timer.builder(MetricNames.COLD_START)
        .description("Starts that requests waited for, from the start's beginning to ready: spawn and readiness check")
        .serviceLevelObjectives(START_BUCKETS)
        .register(registry);
    waitsReady = startWait("ready");
    waitsFailed = startWait("failed");
    noTenant = new TenantMeters(NO_TENANT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  private Timer startWait(String outcome) {
    return Timer.builder(MetricNames.START_WAIT)
        .description("Requests that waited on a start: how long, and whether they got the backend (ready) or a failure")
        .tag("outcome", outcome)
        .serviceLevelObjectives(START_BUCKETS)
        .register(registry);
  }

  private static Duration[] millis(double... values) {
    Duration[] durations = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      durations[i] = Duration.ofNanos(Math.round(values[i] * 1e6));
    }
    return durations;
  }

  /** The registry, for tests and for meters of other parts (such as the admin listener's own). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public RequestMeters tenant(TenantConfig tenant) {
    String label = label(tenant);
    TenantMeters meters = tenants.get(label);
    return meters != null ? meters : tenants.computeIfAbsent(label, TenantMeters::new);
  }

  /** The tenant tag: a tenant's name, or for one made from a template the template's. */
  static String label(TenantConfig tenant) {
    Template template = tenant.template();
    return template != null && template.label() != null ? template.name() : tenant.name();
  }

  @Override
  public RequestMeters noTenant() {
    return noTenant;
  }

  @Override
  public void spawned(TenantConfig tenant) {
    tenantCounter(MetricNames.SPAWNS, "Backend processes spawned", tenant).increment();
  }

  @Override
  public void startFailed(TenantConfig tenant) {
    tenantCounter(MetricNames.START_FAILURES, "Starts that failed: not ready in time, exited first, could not "
        + "execute, port served by someone else", tenant).increment();
  }

  @Override
  public void crashed(TenantConfig tenant) {
    tenantCounter(MetricNames.CRASHES, "Ready instances whose process exited or was lost", tenant).increment();
  }

  @Override
  public void memberDown(TenantConfig tenant) {
    tenantCounter(MetricNames.MEMBERS_DOWN,
        "Members on other machines taken out (DOWN) by their health checks, active or passive", tenant).increment();
  }

  @Override
  public void backoff(TenantConfig tenant) {
    tenantCounter(MetricNames.BACKOFFS, "Instances put in backoff after repeated failures", tenant).increment();
  }

  private Counter tenantCounter(String name, String description, TenantConfig tenant) {
    return Counter.builder(name).description(description).tag("tenant", label(tenant)).register(registry);
  }

  @Override
  public void coldStart(long nanos) {
    coldStarts.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void startWait(long nanos, boolean ready) {
    (ready ? waitsReady : waitsFailed).record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void startRefused(String reason) {
    Counter.builder(MetricNames.START_REFUSALS).description("Requests refused a start at once (503)")
        .tag("reason", reason).register(registry).increment();
  }

  @Override
  public void acmeOrder(boolean issued) {
    Counter.builder(MetricNames.ACME_ORDERS).description("ACME orders by outcome: issued or failed")
        .tag("outcome", issued ? "issued" : "failed").register(registry).increment();
  }

  @Override
  public void connectionRefused(String reason) {
    Counter.builder(MetricNames.FRONT_CONNECTIONS_REFUSED)
        .description("Front connections closed at once by a connection cap").tag("reason", reason)
        .register(registry).increment();
  }

  @Override
  public void gauge(String name, String description, DoubleSupplier value, String... tags) {
    Gauge.builder(name, value::getAsDouble).description(description).tags(tags).strongReference(true)
        .register(registry);
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  /** One tenant's request counters, one per status class, made the first time the tenant answers with one. */
  private final class TenantMeters implements RequestMeters {
    private final String tenant;
    private final AtomicReferenceArray<Counter> byClass = new AtomicReferenceArray<>(CLASSES.length);

    TenantMeters(String tenant) {
      this.tenant = tenant;
    }

    @Override
    public void record(int status, long nanos) {
      int c = status / 100;
      if (c < 1 || c > 5) {
        c = 0;
      }
      Counter counter = byClass.get(c);
      if (counter == null) {
        // The registry hands back the same counter to racing threads.
        counter = Counter.builder(MetricNames.REQUESTS).description("Answers by tenant and status class")
            .tag("tenant", tenant).tag("class", CLASSES[c]).register(registry);
        byClass.set(c, counter);
      }
      counter.increment();
      durations[c].record(nanos, TimeUnit.NANOSECONDS);
    }
  }
}
