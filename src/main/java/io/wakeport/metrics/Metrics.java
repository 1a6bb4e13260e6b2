package io.wakeport.metrics;

import io.wakeport.config.TenantConfig;
import java.util.function.DoubleSupplier;

/**
 * What wakeport measures, and the Prometheus text of it ({@link #scrape}) that the admin listener
 * serves as {@code GET /metrics}. One per running wakeport, handed to the parts that record
 * through their constructors; {@link #off()} (config {@code metrics: false}) records nothing and
 * costs the request path nothing but a call to an empty method. See docs/metrics.md for every name.
 *
 * <p>The request path records through a {@link RequestMeters} handle fetched once per request
 * ({@link #tenant}): one hash lookup, no tag or string built per request. Supervisor events are
 * rare and record directly. Every method is safe from any thread.
 */
public interface Metrics extends AutoCloseable {

  /** Records nothing; {@link #scrape} says so. */
  static Metrics off() {
    return NoMetrics.INSTANCE;
  }

  /** Micrometer's Prometheus registry, with the JVM and process metrics bound. */
  static Metrics prometheus() {
    return new PrometheusMetrics();
  }

  boolean enabled();

  /**
   * Everything measured, in the Prometheus text exposition format (version 0.0.4, the content type
   * {@link #CONTENT_TYPE}); a comment line when metrics are off.
   */
  String scrape();

  /** The content type of {@link #scrape}'s text. */
  String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /**
   * The handle requests of {@code tenant} record through; a tenant made from a template counts under
   * its template's name, so the number of series is bounded by the config, not by the Host names seen.
   */
  RequestMeters tenant(TenantConfig tenant);

  /** The handle of requests no tenant answered: no site for the address, or refused by the front door. */
  RequestMeters noTenant();

  // Supervisor events; called on the supervisor's context.

  /** A backend process of {@code tenant} was spawned. */
  void spawned(TenantConfig tenant);

  /** A start of {@code tenant} failed (not ready in time, exited first, could not execute, port taken). */
  void startFailed(TenantConfig tenant);

  /** A ready instance of {@code tenant} lost its process. */
  void crashed(TenantConfig tenant);

  /** An instance of {@code tenant} entered backoff after repeated failures. */
  void backoff(TenantConfig tenant);

  /** A member of {@code tenant} on another machine was taken out by its health checks. */
  default void memberDown(TenantConfig tenant) {}

  /** A start that requests waited for became ready, {@code nanos} after it began. */
  void coldStart(long nanos);

  /** A request waited {@code nanos} on a start; {@code ready}: it got the backend, else a failure. */
  void startWait(long nanos, boolean ready);

  /** A request was refused a start at once: {@code reason} is {@code max-queue} or {@code backoff}. */
  void startRefused(String reason);

  /** A front connection was closed at once: {@code reason} is {@code max-connections} or {@code max-connections-per-client}. */
  void connectionRefused(String reason);

  /** An ACME order ended: {@code issued} with a certificate, else failed (refusals by the attempt bound are not orders). */
  void acmeOrder(boolean issued);

  /**
   * A gauge read at each scrape; {@code tags} are name, value pairs. {@code value} runs on the
   * scraping thread and must not block.
   */
  void gauge(String name, String description, DoubleSupplier value, String... tags);

  @Override
  void close();
}
