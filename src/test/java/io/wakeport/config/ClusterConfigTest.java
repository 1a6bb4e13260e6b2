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
}
