package io.wakeport.config;

/**
 * One backend instance of a tenant: the route it answers to and the port it listens on. A tenant
 * without routes has exactly one instance whose route is the empty string.
 *
 * @param weight   share of new sessions under {@code balance: requests} (Apache's lbfactor)
 * @param disabled draining: sessions already on it keep reaching it, new sessions do not
 * @param standby  gets new sessions only while every other instance is unavailable
 */
public record InstanceConfig(String route, int port, int weight, boolean disabled, boolean standby) {

  public static InstanceConfig single(int port) {
    return new InstanceConfig("", port, 1, false, false);
  }
}
