package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Routes served by other machines ({@code address:}) and their {@code check}: what is accepted, what is refused and where. */
class RemoteMemberConfigTest {

  @TempDir Path dir;

  private Path write(String body) throws Exception {
    return TestBed.writeConfig(dir, body);
  }

  private List<ConfigProblem> problems(String body) throws Exception {
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(write(body))).problems();
  }

  @Test
  void anAllRemoteTenantNeedsNoCommandAndTakesHaproxysCheckDefaults() throws Exception {
    WakeportConfig config = ConfigLoader.load(write("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}, r2: {address: "https://backend.example.com:8443", weight: 2}}
        """));
    TenantConfig tenant = config.tenants().get("remote");
    InstanceConfig r1 = tenant.instance("r1");
    assertEquals(new RemoteMember("10.0.0.5", 8080, false, null, true, HealthCheck.defaults()), r1.remote());
    assertEquals(8080, r1.port(), "a remote member's port is its own machine's");
    HealthCheck check = r1.remote().check();
    assertEquals(HealthCheck.Kind.TCP, check.kind());
    assertEquals(Duration.ofSeconds(2), check.interval());
    assertEquals(2, check.rise());
    assertEquals(3, check.fall());
    InstanceConfig r2 = tenant.instance("r2");
    assertTrue(r2.remote().tls());
    assertEquals("backend.example.com", r2.remote().host());
    assertEquals(2, r2.weight());
    assertEquals(List.of(), CommandCheck.problems(config, "/usr/bin:/bin"), "wakeport check: nothing to look for");
    Path ports = dir.resolve("var/ports.properties");
    assertFalse(Files.exists(ports) && Files.readString(ports).contains("remote"),
        "no port from the range is handed to, or remembered for, a remote member");
  }

  @Test
  void theContractsCheckAndAMixedTenantAreRead() throws Exception {
    WakeportConfig config = ConfigLoader.check(write("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}, here: {port: 18881}}
            check: {http: /health, expect: 200-299, interval: 500ms, timeout: 200ms, rise: 1, fall: 4}
            command: [app, "${port}"]
        """));
    TenantConfig tenant = config.tenants().get("remote");
    assertNull(tenant.instance("here").remote(), "a route with a port is started here");
    HealthCheck check = tenant.instance("r1").remote().check();
    assertEquals(new HealthCheck(HealthCheck.Kind.HTTP, "/health", 200, 299, Duration.ofMillis(500),
        Duration.ofMillis(200), 1, 4, null), check);
    assertFalse(check.passes(302));
  }

  @Test
  void aRouteWithBothAddressAndPortIsRefusedAtItsLine() throws Exception {
    List<ConfigProblem> problems = problems("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes:
              r1:
                address: 10.0.0.5:8080
                port: 8881
        """);
    assertEquals(1, problems.size(), problems::toString);
    assertEquals("tenants.remote.routes.r1.port", problems.get(0).key());
    assertEquals(9, problems.get(0).line());
    assertTrue(problems.get(0).message().contains("not both"), problems::toString);
  }

  @Test
  void aCommandOnATenantWhoseRoutesAllHaveAnAddressIsRefused() throws Exception {
    List<ConfigProblem> problems = problems("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}}
            command: [app]
        """);
    assertEquals(1, problems.size(), problems::toString);
    assertEquals("tenants.remote.command", problems.get(0).key());
    assertEquals(7, problems.get(0).line());
    assertTrue(problems.get(0).message().contains("nothing to start"), problems::toString);
  }

  @Test
  void badAddressesAreRefusedWithTheirLineAndKey() throws Exception {
    assertEquals("::1", ConfigLoader.check(write("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: "http://[::1]:8080"}}
        """)).tenants().get("remote").instance("r1").remote().host());
    for (String bad : List.of("10.0.0.5", "10.0.0.5:99999", "ftp://10.0.0.5:21", "http://10.0.0.5:80/app", "a b:80")) {
      List<ConfigProblem> problems = problems("""
          tenants:
            remote:
              hosts: [remote.example.com]
              routes:
                r1: {address: "%s"}
          """.formatted(bad));
      assertEquals(1, problems.size(), problems::toString);
      assertEquals("tenants.remote.routes.r1.address", problems.get(0).key(), bad);
      assertEquals(7, problems.get(0).line(), bad);
    }
  }

  @Test
  void checkTlsAndTemplatesAreRefusedWhereTheyMeanNothing() throws Exception {
    ConfigProblem check = problems("""
        tenants:
          local:
            hosts: [local.example.com]
            command: [app]
            check: {tcp: true}
        """).get(0);
    assertEquals("tenants.local.check", check.key());
    assertEquals(7, check.line());
    ConfigProblem tls = problems("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080, tls: {verify: false}}}
        """).get(0);
    assertEquals("tenants.remote.routes.r1.tls", tls.key());
    assertTrue(tls.message().contains("https://"), tls::toString);
    ConfigProblem expect = problems("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}}
            check: {http: /health, expect: fine}
        """).get(0);
    assertEquals("tenants.remote.check.expect", expect.key());
    ConfigProblem template = problems("""
        tenants:
          apps:
            hosts: ["*.apps.example.com"]
            max-tenants: 5
            routes: {r1: {address: 10.0.0.5:8080}}
        """).get(0);
    assertEquals("tenants.apps.routes", template.key());
  }

  @Test
  void observeIsReadAndItsMistakesAreRefusedAtTheirLine() throws Exception {
    String tenant = """
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}}
            check:
              http: /health
              observe: %s
        """;
    HealthCheck check = ConfigLoader.check(write(tenant.formatted("{errors: 3, 5xx: true}"))).tenants().get("remote")
        .instance("r1").remote().check();
    assertEquals(new HealthCheck.Observe(3, true), check.observe());
    assertFalse(check.observe().isError(501), "501 and 505 say more of the request than of the member");
    assertEquals(new HealthCheck.Observe(2, false), ConfigLoader.check(write(tenant.formatted("{errors: 2}")))
        .tenants().get("remote").instance("r1").remote().check().observe());
    assertNull(ConfigLoader.check(write(tenant.formatted("false"))).tenants().get("remote").instance("r1").remote()
        .check().observe());
    assertNull(HealthCheck.defaults().observe(), "no passive checks unless asked for");
    java.util.Map<String, String> bad = java.util.Map.of(
        "{errors: 0}", "tenants.remote.check.observe.errors",
        "{errors: 101}", "tenants.remote.check.observe.errors",
        "{5xx: true}", "tenants.remote.check.observe.errors",
        "{errors: 3, layer: 7}", "tenants.remote.check.observe.layer",
        "{errors: 3, 5xx: sometimes}", "tenants.remote.check.observe.5xx",
        "true", "tenants.remote.check.observe",
        "3", "tenants.remote.check.observe");
    for (var e : bad.entrySet()) {
      List<ConfigProblem> problems = problems(tenant.formatted(e.getKey()));
      assertEquals(1, problems.size(), problems::toString);
      assertEquals(e.getValue(), problems.get(0).key(), e.getKey());
      assertEquals(9, problems.get(0).line(), e.getKey());
      assertTrue(problems.get(0).file().toString().endsWith("wakeport.yaml"), e.getKey());
    }
  }

  @Test
  void aMixedTenantStillNeedsItsCommand() throws Exception {
    ConfigProblem missing = problems("""
        tenants:
          remote:
            hosts: [remote.example.com]
            routes: {r1: {address: 10.0.0.5:8080}, here: {}}
        """).get(0);
    assertEquals("tenants.remote.command", missing.key());
  }
}
