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
}
