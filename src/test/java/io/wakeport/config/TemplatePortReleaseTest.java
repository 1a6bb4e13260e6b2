package io.wakeport.config;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.TestBed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ports and max-tenants slots of tenants made from templates are given back: after
 * {@code release-after} stopped and unused, and at once (least recently used first) when a new
 * label finds the range full; never while the tenant runs.
 */
class TemplatePortReleaseTest {

  @TempDir Path dir;

  /** A range of {@code size} ports of its own, above the ranges test beds give themselves. */
  private static int[] range(int size) {
    int first = 32000 + new Random().nextInt(70) * 10;
    return new int[] {first, first + size - 1};
  }

  private static String template(String name, String suffix, int[] ports, String extra) {
    return """
          %s:
            hosts: ["*.%s"]
            ports: %d-%d
            command: %s
        %s""".formatted(name, suffix, ports[0], ports[1], demoCommand(), extra.indent(4));
  }

  private static HttpResponse<Buffer> get(TestBed bed, String host) throws Exception {
    return bed.request(HttpMethod.GET, null, "/").putHeader("Host", host).send().await(60, TimeUnit.SECONDS);
  }

  private static int status(TestBed bed, String host) {
    try {
      return get(bed, host).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private Map<String, Integer> remembered() throws IOException {
    Map<String, Integer> ports = new TreeMap<>();
    Path file = dir.resolve("var/ports.properties");
    if (Files.exists(file)) {
      Properties props = new Properties();
      try (var reader = Files.newBufferedReader(file)) {
        props.load(reader);
      }
      props.forEach((k, v) -> ports.put((String) k, Integer.parseInt(((String) v).trim())));
    }
    return ports;
  }

  private static boolean stopped(TestBed bed, String stateName) {
    Instance instance = bed.wakeport.supervisor().instance(stateName, "");
    return instance == null || instance.state() == InstanceState.STOPPED && instance.pid() < 0;
  }

  private long spawnedLogs() throws IOException {
    Path logs = dir.resolve("var/logs");
    if (!Files.isDirectory(logs)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(logs)) {
      return files.filter(f -> f.getFileName().toString().startsWith("apps+")).count();
    }
  }

  @Test
  void aNewLabelTakesThePortOfTheLeastRecentlyUsedStoppedTenantWhenTheRangeIsFull() throws Exception {
    int[] ports = range(3);
    String config = "tenants:\n" + template("apps", "apps.test", ports, """
        max-tenants: 10
        release-after: never
        idle-timeout: 1s
        """);
    try (TestBed bed = TestBed.start(dir, config)) {
      Set<Integer> used = new HashSet<>();
      for (String label : List.of("one", "two", "three")) {
        HttpResponse<Buffer> r = get(bed, label + ".apps.test");
        assertEquals(200, r.statusCode(), label);
        used.add(Integer.parseInt(field(r.bodyAsString(), "port")));
      }
      assertEquals(3, used.size());
      TestBed.await("the three tenants stopped", Duration.ofSeconds(20),
          () -> stopped(bed, "apps+one") && stopped(bed, "apps+two") && stopped(bed, "apps+three"));
      // "one" is the least recently used: it is the one whose port "four" gets (once it has been
      // unused for the short minimum that guards a tenant a request has just resolved).
      TestBed.await("a fourth label served on a port taken back", Duration.ofSeconds(30),
          () -> status(bed, "four.apps.test") == 200);
      Map<String, Integer> remembered = remembered();
      assertFalse(remembered.containsKey("apps+one"), remembered::toString);
      assertTrue(used.contains(remembered.get("apps+four")), remembered::toString);
      assertEquals(Set.of("apps+four", "apps+three", "apps+two"), remembered.keySet());
      assertEquals(Integer.parseInt(field(get(bed, "four.apps.test").bodyAsString(), "port")),
          remembered.get("apps+four"));
      assertEquals(null, bed.wakeport.supervisor().instance("apps+one", ""), "its instance was dropped");
      // The tenant that gave its port back is served again when it comes back, on a port taken
      // back from another stopped one.
      TestBed.await("the first label served again", Duration.ofSeconds(30),
          () -> status(bed, "one.apps.test") == 200);
      assertEquals(3, remembered().size(), remembered()::toString);
    }
  }

  @Test
  void aStoppedTenantUnusedForReleaseAfterGivesBackItsPortAndItsMaxTenantsSlot() throws Exception {
    int[] ports = range(3);
    String config = "tenants:\n" + template("apps", "apps.test", ports, """
        max-tenants: 2
        release-after: 1s
        idle-timeout: 1s
        """);
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, status(bed, "one.apps.test"));
      assertEquals(200, status(bed, "two.apps.test"));
      HttpResponse<Buffer> refused = get(bed, "three.apps.test");
      assertEquals(503, refused.statusCode(), "max-tenants 2 reached");
      assertNotNull(refused.getHeader("Retry-After"));
      TestBed.await("both tenants stopped and forgotten", Duration.ofSeconds(20), () -> {
        try {
          return remembered().isEmpty() && bed.wakeport.supervisor().instances().isEmpty();
        } catch (IOException e) {
          return false;
        }
      });
      TestBed.await("the third label admitted once slots are free", Duration.ofSeconds(15),
          () -> status(bed, "three.apps.test") == 200);
      assertEquals(200, status(bed, "one.apps.test"), "a forgotten label is admitted again");
      assertEquals(Set.of("apps+one", "apps+three"), remembered().keySet());
    }
  }

  @Test
  void aRunningTenantNeverGivesUpItsPortAndANewLabelGets503() throws Exception {
    // Two templates on one range of three ports: "apps" keeps its tenants running, "lazy" stops
    // its own after a second; a full range takes the port of the stopped one, never a running one.
    int[] ports = range(3);
    String config = "tenants:\n"
        + template("apps", "apps.test", ports, "max-tenants: 10\nrelease-after: never\nidle-timeout: never\n")
        + template("lazy", "lazy.test", ports, "max-tenants: 10\nrelease-after: never\nidle-timeout: 1s\n");
    try (TestBed bed = TestBed.start(dir, config)) {
      Map<String, String> pids = new TreeMap<>();
      for (String label : List.of("one", "two")) {
        HttpResponse<Buffer> r = get(bed, label + ".apps.test");
        assertEquals(200, r.statusCode(), label);
        pids.put(label, field(r.bodyAsString(), "pid"));
      }
      assertEquals(200, status(bed, "x.lazy.test"));
      int lazyPort = remembered().get("lazy+x");
      TestBed.await("lazy+x stopped", Duration.ofSeconds(20), () -> stopped(bed, "lazy+x"));
      // one and two are less recently used than x, but they run: x's port is the one taken back.
      TestBed.await("a third apps label served on the port x gave back", Duration.ofSeconds(30),
          () -> status(bed, "three.apps.test") == 200);
      assertEquals(lazyPort, remembered().get("apps+three"));
      assertFalse(remembered().containsKey("lazy+x"));
      HttpResponse<Buffer> refused = get(bed, "four.apps.test");
      assertEquals(503, refused.statusCode(), "every port is held by a running tenant");
      assertEquals("60", refused.getHeader("Retry-After"));
      assertFalse(Files.exists(bed.logFile("apps+four")), "nothing was started for the fourth label");
      for (String label : pids.keySet()) {
        HttpResponse<Buffer> r = get(bed, label + ".apps.test");
        assertEquals(200, r.statusCode(), label);
        assertEquals(pids.get(label), field(r.bodyAsString(), "pid"), label + " kept its process");
      }
      assertEquals(Set.of("apps+one", "apps+three", "apps+two"), remembered().keySet());
    }
  }

  @Test
  void aFloodOfRandomLabelsSpawnsAtMostMaxTenantsAndAWarmTenantKeepsAnswering() throws Exception {
    String config = """
        tenants:
          shop:
            hosts: [shop.test]
            command: %s
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 5
            command: %s
        """.formatted(demoCommand(), demoCommand());
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, status(bed, "shop.test"));
      Random random = new Random(4);
      int floodSize = 400;
      int warmAnswered = 0;
      Map<Integer, Integer> statuses = new TreeMap<>();
      for (int batch = 0; batch < floodSize / 20; batch++) {
        List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          String label = "f" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36);
          sent.add(bed.request(HttpMethod.GET, null, "/").putHeader("Host", label + ".apps.test").send());
        }
        if (status(bed, "shop.test") == 200) {
          warmAnswered++;
        }
        for (Future<HttpResponse<Buffer>> f : sent) {
          statuses.merge(f.await(60, TimeUnit.SECONDS).statusCode(), 1, Integer::sum);
        }
      }
      assertEquals(floodSize / 20, warmAnswered, "the warm tenant answered during the whole flood");
      assertEquals(Set.of(200, 503), statuses.keySet(), statuses::toString);
      assertEquals(5, statuses.get(200), statuses::toString);
      assertEquals(5, spawnedLogs(), "at most max-tenants spawns");
      assertEquals(6, bed.wakeport.supervisor().instances().size(), "no instance for a refused label");
      assertTrue(remembered().size() <= 6, remembered()::toString);
    }
  }

  @Test
  void aGivenBackPortStaysFreeAcrossARestartAndAKeptOneStaysItsTenants() throws Exception {
    int[] gone = range(1);
    int[] kept = {gone[0] + 5, gone[0] + 7};
    String config = "tenants:\n"
        + template("apps", "apps.test", gone, "max-tenants: 10\nrelease-after: 1s\nidle-timeout: 1s\n")
        + template("keep", "keep.test", kept, "max-tenants: 10\nrelease-after: 1h\nidle-timeout: 1s\n");
    int keptPort;
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, status(bed, "a.apps.test"));
      HttpResponse<Buffer> b = get(bed, "b.keep.test");
      assertEquals(200, b.statusCode());
      keptPort = Integer.parseInt(field(b.bodyAsString(), "port"));
      TestBed.await("apps+a forgotten", Duration.ofSeconds(20), () -> {
        try {
          return !remembered().containsKey("apps+a");
        } catch (IOException e) {
          return false;
        }
      });
      assertEquals(Map.of("keep+b", keptPort), remembered());
    }
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(Map.of("keep+b", keptPort), remembered(), "nothing given back came back");
      HttpResponse<Buffer> c = get(bed, "c.apps.test");
      assertEquals(200, c.statusCode(), "the only port of the range is free again");
      assertEquals(Integer.toString(gone[0]), field(c.bodyAsString(), "port"));
      HttpResponse<Buffer> b = get(bed, "b.keep.test");
      assertEquals(200, b.statusCode());
      assertEquals(Integer.toString(keptPort), field(b.bodyAsString(), "port"), "b kept its port across the restart");
      assertEquals(Map.of("keep+b", keptPort, "apps+c", gone[0]), remembered());
    }
  }
}
