package io.wakeport.config;

/**
 * One backend instance of a tenant: the route it answers to and the port it listens on. A tenant
 * without routes has exactly one instance whose route is the empty string.
 *
 * @param weight   share of new sessions under {@code balance: requests} (Apache's lbfactor)
 * @param disabled draining: sessions already on it keep reaching it, new sessions do not
 * @param standby  gets new sessions only while every other instance is unavailable
 * @param remote   set for a member on another machine ({@code address:}), whose port is then its
 *                 remote port; null for an instance wakeport starts itself
 */
public record InstanceConfig(String route, int port, int weight, boolean disabled, boolean standby,
    RemoteMember remote) {

  /** An instance wakeport starts itself. */
  public InstanceConfig(String route, int port, int weight, boolean disabled, boolean standby) {
    this(route, port, weight, disabled, standby, null);
  }

  /** Served by another machine: never started, stopped or contained. */
  public boolean isRemote() {
    return remote != null;
  }

  public static InstanceConfig single(int port) {
    return new InstanceConfig("", port, 1, false, false);
  }
}
