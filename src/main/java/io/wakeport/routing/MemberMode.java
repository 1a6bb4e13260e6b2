package io.wakeport.routing;

/**
 * How an instance takes part in balancing, as mod_proxy_balancer's member status: set at run time
 * through the admin API, over the config's {@code disabled} and {@code standby}.
 */
public enum MemberMode {
  /** Takes new sessions (whatever the config says). */
  ACTIVE,
  /** No new sessions; sessions already on it keep reaching it (mod_proxy_balancer's 'N'). */
  DRAIN,
  /** No traffic at all: its sessions are balanced anew (mod_proxy_balancer's 'D'). */
  DISABLED,
  /** New sessions only while no other instance can take them (mod_proxy_balancer's 'H'). */
  STANDBY;

  /** The operator's {@code override} if set, else what the config's flags say. */
  public static MemberMode effective(MemberMode override, io.wakeport.config.InstanceConfig config) {
    if (override != null) {
      return override;
    }
    return config.disabled() ? DRAIN : config.standby() ? STANDBY : ACTIVE;
  }
}
