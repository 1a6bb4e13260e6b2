package io.wakeport.registration;

import io.wakeport.config.InstanceConfig;
import io.wakeport.config.RemoteMember;

/**
 * A backend that registered itself as a member of a tenant: where it listens, its weight and the
 * load it last reported. Replaced whole at each change.
 *
 * @param load             1 (idle) to 100 (full), as last reported
 * @param registeredMillis when it first registered (epoch ms)
 * @param lastReportMillis when it last registered or reported (epoch ms): its lease runs from here
 */
public record Registration(String tenant, String route, RemoteMember member, int weight, int load,
    long registeredMillis, long lastReportMillis) {

  /** The member as balancing and the supervisor see it: a remote instance like a configured one. */
  public InstanceConfig instance() {
    return new InstanceConfig(route, member.port(), weight, false, false, member);
  }

  Registration reported(int nextLoad, long now) {
    return new Registration(tenant, route, member, weight, nextLoad, registeredMillis, now);
  }
}
