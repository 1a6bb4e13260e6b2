package io.wakeport.supervision;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names that used to collide in the state dir: tenant {@code a-b} beside tenant {@code a} with
 * route {@code b}, a template label {@code seaside-first} beside tenant {@code seaside} with route
 * {@code first}, and one label under two templates. Each is its own instance with its own pid file
 * and log, also across a restart. Real wakeport, real demo backends.
 */
class NameCollisionTest {

  @TempDir Path dir;

  /** Every backend pid seen, killed after the test whatever happened. */
  private final List<Long> pids = new ArrayList<>();

  @AfterEach
  void killLeftovers() {
    pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private Path writeConfig(int port, String onExit) throws Exception {
    Path config = dir.resolve("wakeport.yaml");
    int first = 20000 + port % 100 * 100;
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        admin: off
        state-dir: var
        on-exit: %s
        defaults:
          ports: %d-%d
        tenants:
          a-b:
            hosts: [ab.test]
            command: %s
          a:
            hosts: [a.test]
            routes: [b]
            command: %s
          seaside:
            hosts: [seaside.test]
            routes: [first]
            command: %s
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 10
            command: %s
          more:
            hosts: ["*.more.test"]
            max-tenants: 10
            command: %s
        """.formatted(port, onExit, first, first + 99, demoCommand(), demoCommand(), demoCommand(), demoCommand(),
        demoCommand("--boot-delay", "1")));
    return config;
  }

  private long pidOf(HttpResponse<Buffer> response) {
    assertEquals(200, response.statusCode(), response::bodyAsString);
    long pid = Long.parseLong(field(response.bodyAsString(), "pid"));
    pids.add(pid);
    return pid;
  }

  private Path run(String stem) {
    return dir.resolve("var/run/" + stem + ".pid");
  }

  private Path log(String stem) {
    return dir.resolve("var/logs/" + stem + ".log");
  }

  private long pidIn(String stem) throws Exception {
    Properties props = new Properties();
    try (var reader = Files.newBufferedReader(run(stem))) {
      props.load(reader);
    }
    return Long.parseLong(props.getProperty("pid"));
  }

  /** Whether {@code stem}'s log holds the boot line of {@code pid} (and of no other process). */
  private boolean logIsOnlyOf(String stem, long pid) throws Exception {
    List<String> boots = TestBed.lines(log(stem)).stream().filter(l -> l.endsWith("booting")).toList();
    return !boots.isEmpty() && boots.stream().allMatch(l -> l.contains(" pid " + pid + " "));
  }

  private static boolean dead(long pid) {
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  @Test
  void namesThatUsedToShareAFileEachHaveTheirOwnProcessPidFileAndLog() throws Exception {
    int port = TestBed.freePort();
    Path config = writeConfig(port, "stop");
    try (Wakeport wakeport = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      long ab = pidOf(client.get("ab.test", "/"));
      long aRouteB = pidOf(client.get("a.test", "/"));
      long seasideFirst = pidOf(client.get("seaside.test", "/"));
      long label = pidOf(client.get("seaside-first.apps.test", "/"));
      long sameLabelElsewhere = pidOf(client.get("seaside-first.more.test", "/"));
      assertEquals(5, pids.stream().distinct().count(), "five instances, five processes: " + pids);

      assertEquals(ab, pidIn("a-b"));
      assertEquals(aRouteB, pidIn("a@b"));
      assertEquals(seasideFirst, pidIn("seaside@first"));
      assertEquals(label, pidIn("apps+seaside-first"));
      assertEquals(sameLabelElsewhere, pidIn("more+seaside-first"));
      assertTrue(logIsOnlyOf("a-b", ab));
      assertTrue(logIsOnlyOf("a@b", aRouteB));
      assertTrue(logIsOnlyOf("seaside@first", seasideFirst));
      assertTrue(logIsOnlyOf("apps+seaside-first", label));
      assertTrue(logIsOnlyOf("more+seaside-first", sameLabelElsewhere));
      assertFalse(Files.exists(run("seaside-first")) || Files.exists(log("seaside-first")), "no shared name");

      // The same label under two templates: two instances, each on its own port.
      assertNotEquals(wakeport.supervisor().instance("apps+seaside-first", "").address().port(),
          wakeport.supervisor().instance("more+seaside-first", "").address().port());
    }
    pids.forEach(pid -> assertTrue(dead(pid) || awaitDead(pid), "on-exit: stop stopped pid " + pid));
  }

  private static boolean awaitDead(long pid) {
    try {
      TestBed.await("pid " + pid + " gone", Duration.ofSeconds(10), () -> dead(pid));
      return true;
    } catch (Throwable e) {
      return false;
    }
  }

  @Test
  void afterAKillAndARestartNothingIsOrphaned() throws Exception {
    int port = TestBed.freePort();
    Path config = writeConfig(port, "keep");
    long seasideFirst;
    long label;
    try (Wakeport first = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      seasideFirst = pidOf(client.get("seaside.test", "/"));
      label = pidOf(client.get("seaside-first.apps.test", "/"));
    }
    assertTrue(Files.exists(run("seaside@first")) && Files.exists(run("apps+seaside-first")));
    ProcessHandle.of(label).orElseThrow().destroyForcibly(); // kill -9 of the template's backend
    TestBed.await("label's backend killed", Duration.ofSeconds(10), () -> dead(label));

    writeConfig(port, "stop");
    try (Wakeport second = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      assertEquals(seasideFirst, pidOf(client.get("seaside.test", "/")), "seaside/first adopted, not orphaned");
      assertEquals(seasideFirst, second.supervisor().instance("seaside", "first").pid());
      long again = pidOf(client.get("seaside-first.apps.test", "/"));
      assertNotEquals(label, again, "the killed label starts afresh");
      assertNotEquals(seasideFirst, again);
    }
    assertTrue(awaitDead(seasideFirst), "the adopted process is ours again: stopped with wakeport");
    pids.forEach(pid -> assertTrue(awaitDead(pid), "pid " + pid + " orphaned"));
  }

  @Test
  void aRoutePidFileFromTheFormerNamingIsAdoptedByItsPort() throws Exception {
    int port = TestBed.freePort();
    Path config = writeConfig(port, "keep");
    long aRouteB;
    try (Wakeport first = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      aRouteB = pidOf(client.get("a.test", "/"));
    }
    // As an earlier wakeport named it: "<tenant>-<route>", the name tenant a-b has too.
    Files.move(run("a@b"), run("a-b"));

    writeConfig(port, "stop");
    try (Wakeport second = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      assertEquals(aRouteB, pidOf(client.get("a.test", "/")), "adopted through its port");
      assertEquals(aRouteB, pidIn("a@b"));
      assertFalse(Files.exists(run("a-b")));
      long ab = pidOf(client.get("ab.test", "/"));
      assertNotEquals(aRouteB, ab, "tenant a-b is not given a/b's process");
    }
    pids.forEach(pid -> assertTrue(awaitDead(pid), "pid " + pid + " orphaned"));
  }
}
