package io.wakeport.metrics;

import io.wakeport.config.TenantConfig;
import java.util.function.DoubleSupplier;

/** Metrics when they are off ({@code metrics: false}): nothing is recorded. */
final class NoMetrics implements Metrics {

  static final NoMetrics INSTANCE = new NoMetrics();

  private NoMetrics() {}

  @Override
  public boolean enabled() {
    return false;
  }

  @Override
  public String scrape() {
    return "# wakeport metrics are off (metrics: false)\n";
  }

  @Override
  public RequestMeters tenant(TenantConfig tenant) {
    return RequestMeters.NONE;
  }

  @Override
  public RequestMeters noTenant() {
    return RequestMeters.NONE;
  }

  @Override
  public void spawned(TenantConfig tenant) {}

  @Override
  public void startFailed(TenantConfig tenant) {}

  @Override
  public void crashed(TenantConfig tenant) {}

  @Override
  public void backoff(TenantConfig tenant) {}

  @Override
  public void coldStart(long nanos) {}

  @Override
  public void startWait(long nanos, boolean ready) {}

  @Override
  public void startRefused(String reason) {}

  @Override
  public void connectionRefused(String reason) {}

  @Override
  public void acmeOrder(boolean issued) {}

  @Override
  public void gauge(String name, String description, DoubleSupplier value, String... tags) {}

  @Override
  public void close() {}
}
