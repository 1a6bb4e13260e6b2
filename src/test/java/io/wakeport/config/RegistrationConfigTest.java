package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tenant's {@code registration:}: what is read, and what is refused at its line. */
class RegistrationConfigTest {

  @TempDir Path dir;

  private Path write(String body) throws Exception {
    return TestBed.writeConfig(dir, body);
  }

  private List<String> problems(String body) throws Exception {
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(write(body))).problems().stream()
        .map(ConfigProblem::toString).toList();
  }

  @Test
  void aTenantOfRegisteredMembersOnlyNeedsNoCommandAndHasNoInstancesYet() throws Exception {
    WakeportConfig config = ConfigLoader.load(write("""
        tenants:
          pool:
            hosts: [pool.example.com]
            check: {http: /health, interval: 1s}
            registration: {secret: "${env:REG_SECRET}", ttl: 10s, max-members: 8, addresses: [10.0.0.0/8, "fd00::/8", 192.168.1.7]}
        """), Map.of("REG_SECRET", "0123456789abcdef0123"));
    TenantConfig pool = config.tenants().get("pool");
    assertTrue(pool.instances().isEmpty());
    RegistrationPolicy policy = pool.registration();
    assertEquals("0123456789abcdef0123", policy.secret(), "from the environment");
    assertEquals(Duration.ofSeconds(10), policy.ttl());
    assertEquals(8, policy.maxMembers());
    assertEquals(HealthCheck.Kind.HTTP, policy.check().kind(), "the tenant's check runs on its registered members");
    assertTrue(policy.allows(AddressBlock.literal("10.200.3.4")));
    assertTrue(policy.allows(AddressBlock.literal("fd00::7")));
    assertTrue(policy.allows(AddressBlock.literal("192.168.1.7")));
    assertFalse(policy.allows(AddressBlock.literal("192.168.1.8")));
    assertFalse(policy.allows(AddressBlock.literal("11.0.0.1")));
    assertFalse(policy.toString().contains("0123456789abcdef"), "the secret stays out of logs");
  }

  @Test
  void defaultsAndAMixedTenant() throws Exception {
    WakeportConfig config = ConfigLoader.load(write("""
        tenants:
          mixed:
            hosts: [mixed.example.com]
            routes: {a: {port: 8881}, b: {address: "10.0.0.5:8080"}}
            command: [sleep, "1000"]
            registration: {addresses: [10.0.0.0/8]}
          closed:
            hosts: [closed.example.com]
            command: [sleep, "1000"]
        """));
    RegistrationPolicy policy = config.tenants().get("mixed").registration();
    assertNull(policy.secret(), "no secret: the admin credentials only");
    assertEquals(RegistrationPolicy.DEFAULT_TTL, policy.ttl());
    assertEquals(16, policy.maxMembers());
    assertEquals(2, config.tenants().get("mixed").instances().size());
    assertNull(config.tenants().get("closed").registration());
  }

  @Test
  void problemsAreRefusedAtTheirLine() throws Exception {
    List<String> problems = problems("""
        defaults:
          registration: {addresses: [10.0.0.0/8]}
        tenants:
          weak:
            hosts: [weak.example.com]
            registration: {secret: short, ttl: 100ms, max-members: 65, addresses: [10.0.0.0/33, example.com, 10.0.0.1/x]}
          nowhere:
            hosts: [nowhere.example.com]
            registration: {ttl: 5s}
          started:
            hosts: [started.example.com]
            command: [sleep, "1000"]
            registration: {addresses: [10.0.0.0/8], colour: blue}
          apps:
            hosts: ["*.apps.example.com"]
            max-tenants: 5
            command: [sleep, "1000"]
            registration: {addresses: [10.0.0.0/8]}
        """);
    String all = String.join("\n", problems);
    assertTrue(all.contains(":4: defaults.registration: unknown key"), all);
    assertTrue(all.contains(":8: tenants.weak.registration.secret: must be at least 16 characters"), all);
    assertTrue(all.contains(":8: tenants.weak.registration.ttl: must be between 500ms and 1h"), all);
    assertTrue(all.contains(":8: tenants.weak.registration.max-members"), all);
    assertTrue(all.contains("'10.0.0.0/33' is not an address block"), all);
    assertTrue(all.contains("'example.com' is not an address block"), all);
    assertTrue(all.contains("'10.0.0.1/x' is not an address block"), all);
    assertTrue(all.contains(":11: tenants.nowhere.registration.addresses: is missing"), all);
    assertTrue(all.contains(":14: tenants.started.command: the tenant has no routes and is served by registered "
        + "members only"), all);
    assertTrue(all.contains(":15: tenants.started.registration.colour: unknown key"), all);
    assertTrue(all.contains(":20: tenants.apps.registration: a template's tenants are started here"), all);
    assertFalse(all.contains("tenants.apps.command"), "a template's command is its tenants': " + all);
  }

  @Test
  void maxMembersLeavesRoomForTheConfiguredRoutesUnderTheBalancersSixtyFour() throws Exception {
    StringBuilder routes = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      routes.append(i == 0 ? "" : ", ").append("r").append(i).append(": {address: \"10.0.0.").append(i + 1)
          .append(":80\"}");
    }
    List<String> problems = problems("""
        tenants:
          big:
            hosts: [big.example.com]
            routes: {%s}
            registration: {max-members: 5, addresses: [10.0.0.0/8]}
        """.formatted(routes));
    assertTrue(problems.stream().anyMatch(p -> p.contains("registration.max-members: is 5 but with its 60 configured "
        + "route(s) the tenant has room for 4")), problems.toString());
  }
}
