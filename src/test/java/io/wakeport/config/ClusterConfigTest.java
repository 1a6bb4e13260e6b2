package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import io.wakeport.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster: section: read whole, absent by default, each mistake named with file, line and key. */
class ClusterConfigTest {

  @TempDir Path dir;

  private static final String TENANT = "tenants:\n  acme:\n    hosts: [acme.test]\n    command: [app]\n";

  private Path write(String body) throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, "listen: 127.0.0.1:18080\nstate-dir: var\n" + body);
    return file;
  }

  @Test
  void absentMeansASingleMachine() throws Exception {
    assertNull(ConfigLoader.check(write(TENANT)).cluster());
  }

  @Test
  void aWholeSectionIsRead() throws Exception {
    Path file = write("""
        cluster:
          node: n1
          bind: 127.0.0.1:5701
          members: [127.0.0.1:5701, 127.0.0.1:5702, "[::1]:5703"]
          forward-listen: 127.0.0.1:9101
          secret: ${env:WAKEPORT_CLUSTER_SECRET}
        """ + TENANT);
    ClusterSettings cluster = ConfigLoader.load(file, Map.of("WAKEPORT_CLUSTER_SECRET", "0123456789abcdef-secret"))
        .cluster();
    assertEquals("n1", cluster.node());
    assertEquals("127.0.0.1", cluster.bindHost());
    assertEquals(5701, cluster.bindPort());
    assertEquals(List.of("127.0.0.1:5701", "127.0.0.1:5702", "[::1]:5703"), cluster.members());
    assertEquals("127.0.0.1:9101", cluster.forwardListen());
    assertEquals("0123456789abcdef-secret", cluster.secret());
    assertFalse(cluster.toString().contains("secret-"), "the secret is never printed");
  }

  @Test
  void eachMistakeIsNamedWithItsLine() throws Exception {
    Path file = write("""
        cluster:
          node: "bad name"
          bind: 127.0.0.1
          members: [127.0.0.1:5701, nonsense]
          forward-listen: 127.0.0.1:18080
          secret: short
          colour: blue
        """ + TENANT);
    List<ConfigProblem> problems = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
    String all = problems.toString();
    assertTrue(all.contains(file + ":4: cluster.node:"), all);
    assertTrue(all.contains(file + ":5: cluster.bind: must be host:port"), all);
    assertTrue(all.contains(file + ":6: cluster.members: must be host:port entries") && all.contains("'nonsense'"), all);
    assertTrue(all.contains(file + ":7: cluster.forward-listen: must differ from the front port"), all);
    assertTrue(all.contains(file + ":8: cluster.secret: must be at least 16 characters"), all);
    assertTrue(all.contains("cluster.colour"), all);
  }

  @Test
  void theForwardListenerNeedsAPortOfItsOwn() throws Exception {
    Path file = write("admin:\n  listen: 127.0.0.1:9101\n" + CLUSTER + TENANT);
    String all = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems().toString();
    assertTrue(all.contains(file + ":9: cluster.forward-listen: must differ from the admin listener's port 9101"), all);
  }

  @Test
  void missingKeysAreNamed() throws Exception {
    Path file = write("cluster:\n  node: n1\n" + TENANT);
    String all = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems().toString();
    for (String key : List.of("bind", "members", "forward-listen", "secret")) {
      assertTrue(all.contains(file + ":4: cluster." + key + ": is missing"), all);
    }
  }

  private static final String CLUSTER = """
      cluster:
        node: n1
        bind: 127.0.0.1:5701
        members: [127.0.0.1:5701]
        forward-listen: 127.0.0.1:9101
        secret: 0123456789abcdef-secret
      """;

  @Test
  void tlsIsReadWithItsFilesRelativeToTheConfig() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("n1", 30, "127.0.0.1");
    ClusterSettings cluster = ConfigLoader.check(write(CLUSTER
        + "  tls: {cert: certs/n1.crt, key: certs/n1.key, ca: certs/ca.crt}\n" + TENANT)).cluster();
    assertEquals(new ClusterSettings.Tls(dir.resolve("certs/n1.crt"), dir.resolve("certs/n1.key"),
        dir.resolve("certs/ca.crt")), cluster.tls());
    assertNull(ConfigLoader.check(write(CLUSTER + TENANT)).cluster().tls(), "plain HTTP unless tls is given");
  }

  @Test
  void aReloadNamesAChangedTls() {
    ClusterSettings plain = new ClusterSettings("n1", "127.0.0.1", 5701, List.of("127.0.0.1:5701"), "127.0.0.1", 9101,
        "0123456789abcdef-secret", Map.of(), null);
    ClusterSettings tls = new ClusterSettings("n1", "127.0.0.1", 5701, List.of("127.0.0.1:5701"), "127.0.0.1", 9101,
        "0123456789abcdef-secret", Map.of(), new ClusterSettings.Tls(dir.resolve("a.crt"), dir.resolve("a.key"),
        dir.resolve("ca.crt")));
    assertEquals(List.of("tls"), ClusterReload.changed(plain, tls));
  }

  @Test
  void tlsMistakesAreNamedWithTheirLine() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("n1", 30, "127.0.0.1");
    certs.leaf("other", 30, "127.0.0.1");
    certs.leaf("named", 30, "n1.cluster.test");
    TestCertificates.Pair stranger = TestCertificates.selfSigned(dir.resolve("certs"), "stranger", "ec", 30,
        "127.0.0.1", "IP:127.0.0.1");
    // tls: is line 9, its first key line 10
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("  tls:\n    cert: certs/missing.crt\n    key: certs/n1.key\n    ca: certs/ca.crt\n",
        ":10: cluster.tls.cert: " + dir.resolve("certs/missing.crt") + ": no such file");
    cases.put("  tls:\n    cert: certs/n1.crt\n    key: certs/other.key\n    ca: certs/ca.crt\n",
        ":11: cluster.tls.key: " + dir.resolve("certs/other.key") + ": is not the key of the certificate");
    cases.put("  tls:\n    cert: certs/n1.crt\n    key: certs/n1.key\n    ca: certs/nope.crt\n",
        ":12: cluster.tls.ca: " + dir.resolve("certs/nope.crt") + ": no such file");
    cases.put("  tls:\n    cert: certs/n1.crt\n    key: certs/n1.key\n    ca: certs/n1.key\n",
        ":12: cluster.tls.ca: " + dir.resolve("certs/n1.key") + ": not a PEM certificate chain");
    cases.put("  tls:\n    cert: certs/stranger.crt\n    key: certs/stranger.key\n    ca: certs/ca.crt\n",
        ":10: cluster.tls.cert: " + stranger.cert() + " is not trusted by the ca in " + certs.caCert);
    cases.put("  tls:\n    cert: certs/named.crt\n    key: certs/named.key\n    ca: certs/ca.crt\n",
        ":10: cluster.tls.cert: " + dir.resolve("certs/named.crt") + " does not name 127.0.0.1");
    cases.put("  tls:\n    cert: certs/n1.crt\n    colour: blue\n", "cluster.tls.colour");
    cases.put("  tls:\n    cert: certs/n1.crt\n", ":10: cluster.tls.key: is missing");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Path file = write(CLUSTER + c.getKey() + TENANT);
      String all = assertThrows(ConfigException.class, () -> ConfigLoader.check(file), c.getKey()).problems()
          .toString();
      assertTrue(all.contains(c.getValue()) && (c.getValue().startsWith("cluster") || all.contains(file + c.getValue())),
          c.getKey() + " -> " + all);
    }
  }

  @Test
  void nodeLabelsAndTenantPlacementAreRead() throws Exception {
    Path file = write(CLUSTER + """
          labels: {zone: a, disk: ssd}
        defaults:
          placement: {labels: {zone: a}}
        tenants:
          acme:
            hosts: [acme.test]
            command: [app]
            placement:
              labels: {disk: ssd}
          globex:
            hosts: [globex.test]
            command: [app]
        """);
    WakeportConfig config = ConfigLoader.check(file);
    assertEquals(Map.of("zone", "a", "disk", "ssd"), config.cluster().labels());
    assertTrue(config.cluster().toString().contains("labels disk=ssd,zone=a"), config.cluster().toString());
    assertEquals(Map.of("disk", "ssd"), config.tenants().get("acme").placement().labels(), "its own wins over defaults");
    assertEquals(Map.of("zone", "a"), config.tenants().get("globex").placement().labels(), "inherited from defaults");
    assertTrue(config.tenants().get("acme").placement().admits(Map.of("disk", "ssd", "zone", "b")));
    assertFalse(config.tenants().get("acme").placement().admits(Map.of("disk", "hdd")));
    assertEquals(Map.of(), ConfigLoader.check(write(CLUSTER + TENANT)).tenants().get("acme").placement().labels());
  }

  @Test
  void placementLabelsArePartOfTheTenantsDigest() throws Exception {
    String ssd = io.wakeport.cluster.ClusterWiring.digests(ConfigLoader.check(write(CLUSTER
        + TENANT + "    placement: {labels: {disk: ssd, zone: a}}\n"))).get("acme");
    String same = io.wakeport.cluster.ClusterWiring.digests(ConfigLoader.check(write(CLUSTER
        + TENANT + "    placement: {labels: {zone: a, disk: ssd}}\n"))).get("acme");
    String hdd = io.wakeport.cluster.ClusterWiring.digests(ConfigLoader.check(write(CLUSTER
        + TENANT + "    placement: {labels: {disk: hdd, zone: a}}\n"))).get("acme");
    assertEquals(ssd, same, "the order labels are written in is no difference");
    assertFalse(ssd.equals(hdd), "other labels: another definition");
  }

  @Test
  void labelMistakesAreNamedWithTheirLine() throws Exception {
    Path file = write(CLUSTER + """
          labels:
            zone: "a b"
            "bad name": x
            disk: [ssd]
        tenants:
          acme:
            hosts: [acme.test]
            command: [app]
            placement:
              labels: {disk: "s/d"}
              spread: true
          globex:
            hosts: [globex.test]
            command: [app]
            placement: {labels: [disk]}
        """);
    String all = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems().toString();
    assertTrue(all.contains(file + ":10: cluster.labels.zone: label values are letters, digits") && all.contains("'a b'"),
        all);
    assertTrue(all.contains(file + ":11: cluster.labels: label names are letters") && all.contains("'bad name'"), all);
    assertTrue(all.contains(file + ":12: cluster.labels.disk: must be a single value"), all);
    assertTrue(all.contains(file + ":18: tenants.acme.placement.labels.disk: label values are") && all.contains("'s/d'"),
        all);
    assertTrue(all.contains(file + ":19: tenants.acme.placement.spread: unknown key"), all);
    assertTrue(all.contains(file + ":23: tenants.globex.placement.labels: must be a mapping"), all);
  }

  @Test
  void aReloadKeepsTheRunningClusterSection() throws Exception {
    WakeportConfig running = ConfigLoader.check(write(CLUSTER + "  labels: {zone: a}\n" + TENANT));
    WakeportConfig same = ConfigLoader.check(write(CLUSTER + "  labels: {zone: a}\n" + TENANT));
    assertTrue(ClusterReload.keepRunning(running, same) == same, "unchanged: applied as read, no warning");
    WakeportConfig edited = ConfigLoader.check(write(CLUSTER.replace("[127.0.0.1:5701]", "[127.0.0.1:5701, 127.0.0.1:5702]")
        + "  labels: {zone: b}\n" + TENANT));
    WakeportConfig kept = ClusterReload.keepRunning(running, edited);
    assertEquals(running.cluster(), kept.cluster());
    assertEquals(Map.of("zone", "a"), kept.cluster().labels());
    String warnings = kept.warnings().toString();
    assertTrue(warnings.contains(file() + ": cluster: cluster section changed (members, labels): takes effect on restart"),
        warnings);
    WakeportConfig single = ConfigLoader.check(write(TENANT));
    assertTrue(ClusterReload.keepRunning(running, single).warnings().toString().contains("cluster section removed"));
    assertEquals(running.cluster(), ClusterReload.keepRunning(running, single).cluster());
  }

  private Path file() {
    return dir.resolve("wakeport.yaml");
  }
}
