package io.wakeport.registration;

import io.wakeport.config.AddressBlock;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.RegistrationPolicy;
import io.wakeport.config.RemoteMember;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Members that registered themselves, by tenant and route, in registration order: checked against
 * their tenant's {@code registration:} when they come, laid over the loaded config as remote
 * members ({@link #overlay}), and dropped when their lease runs out, their tenant leaves the
 * config or a configured route takes their name. Kept in memory only: a restart forgets them,
 * and backends register again (a report then answers 404), as mod_cluster's nodes do.
 */
public final class Registrations {

  /** As a configured route's name: what follows the last dot of a session id. */
  private static final Pattern ROUTE = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  /** {@code 10.0.0.7:8080} or {@code [fd00::7]:8080}: an IP literal, never a name to look up. */
  private static final Pattern ADDRESS = Pattern.compile("(?:\\[([0-9A-Fa-f:.]+)]|([0-9.]+)):([0-9]{1,5})");

  /** What a config change did to the registrations: those it dropped, and why. */
  public record Dropped(Registration registration, String reason) {}

  private final Map<String, Map<String, Registration>> byTenant = new LinkedHashMap<>();
  /**
   * Routes whose member left (deregistered, expired, dropped by a reload), per tenant, until one
   * registers under that name again: read by the event loops, so replaced whole, never edited.
   */
  private volatile Map<String, java.util.Set<String>> departed = Map.of();
  /** Departed routes remembered per tenant; the oldest are forgotten first. */
  private static final int MAX_DEPARTED = 256;

  /**
   * Adds or renews {@code route} of {@code tenant} (as loaded, without registered members) at
   * {@code address}. A renewal at the same address keeps its load unless one is given.
   *
   * @return the registration, and whether it is new or moved (the members changed)
   */
  public synchronized Change register(TenantConfig tenant, String route, String address, int weight, Integer load,
      long now) {
    RegistrationPolicy policy = policyOf(tenant);
    RemoteMember member = admit(tenant, policy, route, address);
    Map<String, Registration> members = byTenant.computeIfAbsent(tenant.name(), k -> new LinkedHashMap<>());
    Registration old = members.get(route);
    if (old == null && members.size() >= policy.maxMembers()) {
      if (members.isEmpty()) {
        byTenant.remove(tenant.name());
      }
      throw new RegistrationRefused(429, "too-many-members", "tenant " + tenant.name() + " has "
          + policy.maxMembers() + " registered members, its registration.max-members");
    }
    int nextLoad = load != null ? load : old != null && old.member().equals(member) ? old.load() : 1;
    Registration next = new Registration(tenant.name(), route, member, weight, nextLoad,
        old == null ? now : old.registeredMillis(), now);
    members.put(route, next);
    returned(tenant.name(), route);
    boolean changed = old == null || !old.member().equals(member) || old.weight() != weight;
    return new Change(next, old == null, changed);
  }

  /** A registration made or renewed: whether it is new, and whether the tenant's members changed with it. */
  public record Change(Registration registration, boolean created, boolean membersChanged) {}

  /**
   * Takes in (or updates) a member as another node of the cluster registered it, checked against
   * this node's {@code tenant} as {@link #register} checks; {@code max-members} was counted across
   * the cluster when it registered.
   */
  public synchronized Change adopt(TenantConfig tenant, RegistrationSharing.Member shared) {
    RemoteMember member = admit(tenant, policyOf(tenant), shared.route(), shared.address());
    Map<String, Registration> members = byTenant.computeIfAbsent(tenant.name(), k -> new LinkedHashMap<>());
    Registration old = members.get(shared.route());
    Registration next = new Registration(tenant.name(), shared.route(), member, shared.weight(), shared.load(),
        shared.registeredMillis(), shared.lastReportMillis());
    members.put(shared.route(), next);
    returned(tenant.name(), shared.route());
    boolean changed = old == null || !old.member().equals(member) || old.weight() != shared.weight();
    return new Change(next, old == null, changed);
  }

  /**
   * Takes out a member that left on another node of the cluster, if it is the one registered here
   * (the same registration time: not one that registered again since).
   *
   * @return the registration taken out, or null
   */
  public synchronized Registration forget(RegistrationSharing.Member shared) {
    Map<String, Registration> members = byTenant.get(shared.tenant());
    Registration r = members == null ? null : members.get(shared.route());
    if (r == null || r.registeredMillis() != shared.registeredMillis()) {
      return null;
    }
    members.remove(shared.route());
    if (members.isEmpty()) {
      byTenant.remove(shared.tenant());
    }
    left(List.of(r));
    return r;
  }

  /** Records a load report, which also renews the lease; refused (404) for a route not registered. */
  public synchronized Registration report(TenantConfig tenant, String route, int load, long now) {
    policyOf(tenant);
    Registration old = find(tenant.name(), route);
    if (old == null) {
      throw notRegistered(tenant, route);
    }
    Registration next = old.reported(load, now);
    byTenant.get(tenant.name()).put(route, next);
    return next;
  }

  /** Takes {@code route} out; refused (404) when it is not registered. */
  public synchronized Registration remove(TenantConfig tenant, String route) {
    policyOf(tenant);
    Map<String, Registration> members = byTenant.get(tenant.name());
    Registration gone = members == null ? null : members.remove(route);
    if (gone == null) {
      throw notRegistered(tenant, route);
    }
    if (members.isEmpty()) {
      byTenant.remove(tenant.name());
    }
    left(List.of(gone));
    return gone;
  }

  /** Removes and returns every registration whose lease ran out by {@code now} under its tenant's ttl. */
  public synchronized List<Registration> expire(WakeportConfig loaded, long now) {
    List<Registration> expired = new ArrayList<>();
    for (var tenants = byTenant.entrySet().iterator(); tenants.hasNext(); ) {
      var entry = tenants.next();
      TenantConfig tenant = loaded.tenants().get(entry.getKey());
      if (tenant == null || tenant.registration() == null) {
        continue; // retain() handles it at the reload
      }
      long ttl = tenant.registration().ttl().toMillis();
      for (var it = entry.getValue().values().iterator(); it.hasNext(); ) {
        Registration r = it.next();
        if (now - r.lastReportMillis() >= ttl) {
          it.remove();
          expired.add(r);
        }
      }
      if (entry.getValue().isEmpty()) {
        tenants.remove();
      }
    }
    left(expired);
    return expired;
  }

  /**
   * Keeps what a newly loaded config still allows: the tenant is there and takes registrations,
   * the route is not one of its configured ones, the address lies in its blocks; the check is
   * the new one. Beyond a lowered {@code max-members}, the latest registered go.
   */
  public synchronized List<Dropped> retain(WakeportConfig loaded) {
    List<Dropped> dropped = new ArrayList<>();
    for (var tenants = byTenant.entrySet().iterator(); tenants.hasNext(); ) {
      var entry = tenants.next();
      TenantConfig tenant = loaded.tenants().get(entry.getKey());
      RegistrationPolicy policy = tenant == null ? null : tenant.registration();
      int kept = 0;
      for (var it = entry.getValue().entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        Registration r = e.getValue();
        String reason = tenant == null ? "its tenant left the config"
            : policy == null ? "its tenant no longer takes registrations"
            : tenant.instance(r.route()) != null ? "the config now has a route of that name"
            : !policy.allows(AddressBlock.literal(r.member().host())) ? "its address is outside registration.addresses"
            : kept >= policy.maxMembers() ? "past registration.max-members" : null;
        if (reason != null) {
          it.remove();
          dropped.add(new Dropped(r, reason));
        } else {
          kept++;
          RemoteMember m = r.member();
          e.setValue(new Registration(r.tenant(), r.route(), new RemoteMember(m.host(), m.port(), false, null, true,
              policy.check()), r.weight(), r.load(), r.registeredMillis(), r.lastReportMillis()));
        }
      }
      if (entry.getValue().isEmpty()) {
        tenants.remove();
      }
    }
    left(dropped.stream().filter(d -> loaded.tenants().containsKey(d.registration().tenant()))
        .map(Dropped::registration).toList());
    Map<String, java.util.Set<String>> kept = new LinkedHashMap<>(departed);
    kept.keySet().removeIf(t -> !loaded.tenants().containsKey(t)); // a tenant gone takes its memory along
    departed = Map.copyOf(kept);
    return dropped;
  }

  /** {@code loaded} with each tenant's registered members after its configured instances. */
  public synchronized WakeportConfig overlay(WakeportConfig loaded) {
    Map<String, TenantConfig> replaced = new LinkedHashMap<>();
    byTenant.forEach((name, members) -> {
      TenantConfig tenant = loaded.tenants().get(name);
      if (tenant == null || members.isEmpty()) {
        return;
      }
      List<InstanceConfig> instances = new ArrayList<>(tenant.instances());
      members.values().forEach(r -> instances.add(r.instance()));
      replaced.put(name, tenant.withInstances(instances));
    });
    return loaded.withTenants(replaced);
  }

  /** Whether {@code route} of {@code tenant} was a registered member that left, and none took its name since. */
  public boolean departed(String tenant, String route) {
    java.util.Set<String> routes = departed.get(tenant);
    return routes != null && routes.contains(route);
  }

  private void left(List<Registration> gone) {
    if (gone.isEmpty()) {
      return;
    }
    Map<String, java.util.Set<String>> next = new LinkedHashMap<>(departed);
    for (Registration r : gone) {
      java.util.LinkedHashSet<String> routes = new java.util.LinkedHashSet<>(next.getOrDefault(r.tenant(), Set.of()));
      routes.remove(r.route());
      routes.add(r.route());
      while (routes.size() > MAX_DEPARTED) {
        routes.remove(routes.iterator().next());
      }
      next.put(r.tenant(), java.util.Collections.unmodifiableSet(routes));
    }
    departed = Map.copyOf(next);
  }

  private void returned(String tenant, String route) {
    java.util.Set<String> routes = departed.get(tenant);
    if (routes != null && routes.contains(route)) {
      Map<String, java.util.Set<String>> next = new LinkedHashMap<>(departed);
      java.util.LinkedHashSet<String> rest = new java.util.LinkedHashSet<>(routes);
      rest.remove(route);
      next.put(tenant, java.util.Collections.unmodifiableSet(rest));
      departed = Map.copyOf(next);
    }
  }

  /** The registration of {@code route} of {@code tenant}, or null. */
  public synchronized Registration find(String tenant, String route) {
    Map<String, Registration> members = byTenant.get(tenant);
    return members == null ? null : members.get(route);
  }

  /** How many members are registered now. */
  public synchronized int count() {
    int n = 0;
    for (Map<String, Registration> members : byTenant.values()) {
      n += members.size();
    }
    return n;
  }

  /** Every registration now, by tenant in registration order. */
  public synchronized List<Registration> all() {
    List<Registration> all = new ArrayList<>();
    byTenant.values().forEach(m -> all.addAll(m.values()));
    return all;
  }

  static RegistrationPolicy policyOf(TenantConfig tenant) {
    if (tenant.registration() == null) {
      throw new RegistrationRefused(403, "registration-off", "tenant " + tenant.name()
          + " takes no registered members (no registration: in its config)");
    }
    return tenant.registration();
  }

  private static RegistrationRefused notRegistered(TenantConfig tenant, String route) {
    return new RegistrationRefused(404, "no-such-member", "tenant " + tenant.name() + " has no registered member "
        + route + " (register it again: PUT /api/tenants/" + tenant.name() + "/members/" + route + ")");
  }

  /** The member at {@code address} as {@code route} of {@code tenant}, refused as the API answers. */
  private static RemoteMember admit(TenantConfig tenant, RegistrationPolicy policy, String route, String address) {
    if (!ROUTE.matcher(route).matches()) {
      throw new RegistrationRefused(400, "bad-request", "route '" + route + "' must match [A-Za-z0-9_-]{1,32}");
    }
    if (tenant.instance(route) != null) {
      throw new RegistrationRefused(409, "route-configured", "tenant " + tenant.name() + " has route " + route
          + " in its config: a registered member takes another name");
    }
    return member(address, policy);
  }

  /** The member at {@code address}, an IP literal and port inside the policy's blocks. */
  private static RemoteMember member(String address, RegistrationPolicy policy) {
    Matcher m = address == null || address.length() > 64 ? null : ADDRESS.matcher(address);
    if (m == null || !m.matches()) {
      throw new RegistrationRefused(400, "bad-request", "address must be an IP address and port, such as "
          + "10.0.0.7:8080 or [fd00::7]:8080 (no names: the address is checked against registration.addresses)");
    }
    String host = m.group(1) != null ? m.group(1) : m.group(2);
    byte[] bytes = AddressBlock.literal(host);
    int port = Integer.parseInt(m.group(3));
    if (bytes == null || port < 1 || port > 65535) {
      throw new RegistrationRefused(400, "bad-request", "'" + address + "' is not an IP address and port");
    }
    if (!policy.allows(bytes)) {
      throw new RegistrationRefused(403, "address-not-allowed", address + " is outside the tenant's "
          + "registration.addresses " + policy.addresses());
    }
    return new RemoteMember(host, port, false, null, true, policy.check());
  }
}
