package io.wakeport.config;

import java.time.Duration;
import java.util.List;

/**
 * A tenant's {@code registration:}: backends on other machines may add themselves as its members
 * through the admin API (as mod_cluster's nodes do), report their load, and leave.
 *
 * @param secret     a bearer secret that allows this tenant's member endpoints only; null: the
 *                   admin credentials alone
 * @param ttl        a member that neither reports nor registers again this long is taken out
 * @param maxMembers how many may be registered at once
 * @param addresses  the blocks a registered address must lie in
 * @param check      the tenant's health check, run on each registered member as on configured ones
 */
public record RegistrationPolicy(String secret, Duration ttl, int maxMembers, List<AddressBlock> addresses,
    HealthCheck check) {

  public static final Duration DEFAULT_TTL = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_MEMBERS = 16;

  public RegistrationPolicy {
    addresses = List.copyOf(addresses);
  }

  /** Whether a member may say it listens at {@code address} (the bytes of an IP literal). */
  public boolean allows(byte[] address) {
    for (AddressBlock block : addresses) {
      if (block.contains(address)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    // Never the secret: this lands in logs and the API's config view.
    return "registration{ttl=" + Durations.format(ttl) + ", max-members=" + maxMembers + ", addresses=" + addresses
        + ", secret=" + (secret == null ? "none" : "set") + "}";
  }
}
