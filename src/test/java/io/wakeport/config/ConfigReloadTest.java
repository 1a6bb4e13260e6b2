package io.wakeport.config;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.Wakeport;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The live host-to-command map: edits apply without a restart, and a bad edit changes nothing. */
class ConfigReloadTest {

  @TempDir Path dir;

  /** A short quiet period, so that tests waiting for the watcher need not wait out the default 2 s. */
  private static final String QUICK = "watch: {quiet: 200ms}\n";

  private static String tenants(String... names) {
    StringBuilder sb = new StringBuilder("tenants:\n");
    for (String name : names) {
      sb.append("  ").append(name).append(":\n    hosts: [").append(name).append(".test]\n    command: ")
          .append(demoCommand()).append("\n");
    }
    return sb.toString();
  }

  private static int status(TestBed bed, String host) {
    try {
      return bed.get(host, "/").statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static boolean dead(long pid) {
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  @Test
  void aTenantAddedToTheFileIsRoutableWithinASecondOrSo() throws Exception {
    try (TestBed bed = TestBed.start(dir, QUICK + tenants("a"))) {
      bed.wakeport.watchConfig();
      assertEquals(404, status(bed, "b.test"));
      bed.rewrite(QUICK + tenants("a", "b"));
      TestBed.await("b routable", Duration.ofSeconds(5), () -> status(bed, "b.test") == 200);
    }
  }

  @Test
  void includedFilesAddAndRemoveTenants() throws Exception {
    Path tenantsDir = Files.createDirectories(dir.resolve("tenants.d"));
    Files.writeString(tenantsDir.resolve("a.yaml"), tenants("a"));
    try (TestBed bed = TestBed.start(dir, QUICK + "include: [tenants.d/*.yaml]\n")) {
      bed.wakeport.watchConfig();
      assertEquals(200, status(bed, "a.test"));
      Files.writeString(tenantsDir.resolve("c.yaml"), tenants("c"));
      TestBed.await("c routable after dropping its file", Duration.ofSeconds(5), () -> status(bed, "c.test") == 200);
      Files.delete(tenantsDir.resolve("c.yaml"));
      TestBed.await("c gone after deleting its file", Duration.ofSeconds(5), () -> status(bed, "c.test") == 404);
      assertEquals(200, status(bed, "a.test"));
    }
  }

  @Test
  void aBrokenEditKeepsTheRunningConfigAndSaysWhichLineIsWrong() throws Exception {
    try (LogCapture logs = new LogCapture(Wakeport.class); TestBed bed = TestBed.start(dir, QUICK + tenants("a"))) {
      bed.wakeport.watchConfig();
      long pid = Long.parseLong(field(bed.get("a.test", "/").bodyAsString(), "pid"));
      bed.rewrite(QUICK + tenants("a", "b").replace("  b:\n", "  b:\n    start-timeout: soon\n"));
      // The problems are logged one line each after the summary line: wait for the one wanted.
      TestBed.await("problem logged", Duration.ofSeconds(5), () -> logs.contains("tenants.b.start-timeout"));
      assertTrue(logs.contains("config not reloaded"), logs.messages().toString());
      String problem = logs.messages().stream().filter(m -> m.contains("tenants.b.start-timeout")).findFirst()
          .orElseThrow(() -> new AssertionError(logs.messages().toString()));
      assertTrue(problem.matches(".*wakeport\\.yaml:\\d+: tenants\\.b\\.start-timeout: 'soon' is not a duration.*"), problem);
      assertEquals(404, status(bed, "b.test"), "nothing of the broken config was applied");
      assertEquals(pid, Long.parseLong(field(bed.get("a.test", "/").bodyAsString(), "pid")));
    }
  }

  @Test
  void aRemovedTenantFinishesItsRequestsThenStops() throws Exception {
    try (TestBed bed = TestBed.start(dir, tenants("a", "b"))) {
      long pid = Long.parseLong(field(bed.get("b.test", "/").bodyAsString(), "pid"));
      // The first request's lease ends just after its answer: the lease awaited below must be the slow one's.
      TestBed.await("the first request's lease released", Duration.ofSeconds(5),
          () -> bed.wakeport.supervisor().instance("b", "").inFlight() == 0);
      Future<HttpResponse<Buffer>> slow = bed.request(HttpMethod.GET, "b.test", "/slow?ms=2500").send();
      TestBed.await("slow request in flight", Duration.ofSeconds(5),
          () -> bed.wakeport.supervisor().instance("b", "").inFlight() == 1);
      bed.rewrite(tenants("a"));
      assertTrue(bed.wakeport.reload());
      assertEquals(404, status(bed, "b.test"), "new requests for a removed tenant get 404");
      assertFalse(dead(pid), "its process serves the request in flight");
      assertEquals(200, slow.await(10, TimeUnit.SECONDS).statusCode());
      TestBed.await("removed tenant stopped", Duration.ofSeconds(10), () -> dead(pid));
    }
  }

  @Test
  void aChangedCommandKeepsServingUntilTheNextStopOrIsReplacedWithOnChangeRestart() throws Exception {
    String before = tenants("a", "b");
    try (TestBed bed = TestBed.start(dir, before)) {
      long a = Long.parseLong(field(bed.get("a.test", "/").bodyAsString(), "pid"));
      long b = Long.parseLong(field(bed.get("b.test", "/").bodyAsString(), "pid"));
      String after = before
          .replace("  a:\n", "  a:\n    env: {VERSION: \"2\"}\n")
          .replace("  b:\n", "  b:\n    env: {VERSION: \"2\"}\n    on-change: restart\n");
      bed.rewrite(after);
      assertTrue(bed.wakeport.reload());
      assertEquals(a, Long.parseLong(field(bed.get("a.test", "/").bodyAsString(), "pid")), "a keeps its process");
      TestBed.await("b replaced", Duration.ofSeconds(15), () -> dead(b));
      HttpResponse<Buffer> replaced = bed.get("b.test", "/");
      assertEquals(200, replaced.statusCode());
      assertNotEquals(b, Long.parseLong(field(replaced.bodyAsString(), "pid")));
    }
  }

  @Test
  void environmentReferencesAreReadFromWakeportsEnvironment() throws Exception {
    Path file = dir.resolve("env.yaml");
    Files.writeString(file, """
        state-dir: var
        tenants:
          a:
            hosts: [a.test]
            env: {API_KEY: "${env:ACME_KEY}"}
            command: [app]
        """);
    WakeportConfig config = ConfigLoader.load(file, Map.of("ACME_KEY", "s3cret"));
    TenantConfig a = config.tenants().get("a");
    assertEquals("s3cret", a.launchSpec(a.instances().get(0)).env().get("API_KEY"));
    ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
    assertTrue(missing.getMessage().contains("env.yaml:5: tenants.a.env.API_KEY: environment variable ACME_KEY is not set"),
        missing.getMessage());
  }

  @Test
  void problemsInAnIncludedFileNameThatFile() throws Exception {
    Path tenantsDir = Files.createDirectories(dir.resolve("tenants.d"));
    Files.writeString(tenantsDir.resolve("good.yaml"), tenants("a"));
    Files.writeString(tenantsDir.resolve("bad.yaml"), "tenants:\n  b:\n    hosts: [b.test]\n    comand: [x]\n");
    Files.writeString(dir.resolve("main.yaml"), "state-dir: var\ninclude: [tenants.d/*.yaml]\n"
        + "tenants:\n  a:\n    hosts: [a2.test]\n    command: [x]\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.check(dir.resolve("main.yaml")));
    assertTrue(e.getMessage().contains("bad.yaml:4: tenants.b.comand: unknown key"), e.getMessage());
    assertTrue(e.getMessage().contains("good.yaml:2: tenants.a: is already defined at " + dir.resolve("main.yaml") + ":4"),
        e.getMessage());
  }

  @Test
  void hangupMakesARunningWakeportReloadInsteadOfExiting() throws Exception {
    Path config = dir.resolve("wakeport.yaml");
    int port = TestBed.freePort();
    Files.writeString(config, "listen: 127.0.0.1:" + port + "\nadmin: off\nstate-dir: var\n" + tenants("a"));
    Process wakeport = new ProcessBuilder(TestBed.JAVA, "-cp", System.getProperty("java.class.path"),
        "io.wakeport.cli.Main", "run", "--config", config.toString()).redirectErrorStream(true).start();
    ConcurrentLinkedQueue<String> output = new ConcurrentLinkedQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(wakeport.getInputStream()))) {
        in.lines().forEach(output::add);
      } catch (Exception ignored) {
        // process ended
      }
    });
    reader.start();
    try {
      TestBed.await("wakeport listening", Duration.ofSeconds(20),
          () -> output.stream().anyMatch(l -> l.contains("wakeport listening")));
      new ProcessBuilder("kill", "-HUP", Long.toString(wakeport.pid())).start().waitFor();
      try {
        TestBed.await("reload on HUP", Duration.ofSeconds(10),
            () -> output.stream().anyMatch(l -> l.contains("config reloaded")));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; wakeport printed:\n" + String.join("\n", output), e);
      }
      assertTrue(wakeport.isAlive(), "HUP must not end wakeport");
    } finally {
      wakeport.destroy();
      wakeport.waitFor(30, TimeUnit.SECONDS);
      reader.join(5000);
    }
  }

  @Test
  void noRequestFailsWhileTheMapIsReloadedUnderLoad() throws Exception {
    String base = tenants("a", "b", "c");
    try (TestBed bed = TestBed.start(dir, base)) {
      bed.wakeport.watchConfig();
      for (String t : List.of("a", "b", "c")) {
        assertEquals(200, status(bed, t + ".test"));
      }
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger ok = new AtomicInteger();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      List<Thread> clients = new ArrayList<>();
      for (String t : List.of("a", "b", "c")) {
        Thread client = new Thread(() -> {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (running.get() && System.nanoTime() < deadline) {
            int s = status(bed, t + ".test");
            if (s == 200) ok.incrementAndGet(); else failures.add(t + ": " + s);
          }
        });
        client.start();
        clients.add(client);
      }
      List<String> edits = List.of(
          tenants("a", "b", "c", "d"),                                       // add
          base,                                                              // remove
          base.replace("hosts: [c.test]", "hosts: [c.test, www.c.test]"),    // change hosts
          base.replace("  a:\n", "  a:\n    start-timeout: soon\n"),         // broken
          tenants("a", "b", "c", "e", "f"),
          base.replace("  b:\n", "  b:\n    idle-timeout: 20m\n"),
          base);
      for (int round = 0; round < 3; round++) {
        for (String edit : edits) {
          bed.rewrite(edit);
          bed.wakeport.reload();
          Thread.sleep(50); // pacing between edits, not a wait for a condition
        }
      }
      running.set(false);
      for (Thread client : clients) {
        client.join();
      }
      assertTrue(failures.isEmpty(), "requests failed during reloads: " + failures);
      assertTrue(ok.get() > 100, "the load was real: " + ok.get() + " requests");
    }
  }

  // ---- a config is applied only when it is whole ---------------------------------------------

  private static String tenant(String name, String extra) {
    return "  " + name + ":\n    hosts: [" + name + ".test]\n" + extra + "    command: " + demoCommand() + "\n";
  }

  /** Fails the test as soon as {@code condition} is false, over {@code period} (a scenario's own pause). */
  private static void assertStays(String what, Duration period, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + period.toNanos();
    while (System.nanoTime() < end) {
      assertTrue(condition.getAsBoolean(), "no longer true: " + what);
      Thread.sleep(20);
    }
  }

  @Test
  void aConfigWrittenInTwoStepsIsNeverAppliedHalf() throws Exception {
    // The default quiet period (no watch: key), against a writer that pauses 1 s half way.
    try (LogCapture logs = new LogCapture(Wakeport.class);
        TestBed bed = TestBed.start(dir, "tenants:\n" + tenant("a", "") + tenant("b", "    min-running: 1\n"))) {
      bed.wakeport.watchConfig();
      Instance warm = bed.wakeport.supervisor().instance("b", "");
      TestBed.await("b's keep-warm backend ready", Duration.ofSeconds(30), () -> warm.state() == InstanceState.READY);
      long pid = warm.pid();
      assertEquals(Long.toString(pid), field(bed.get("b.test", "/").bodyAsString(), "pid"));

      // In place, not renamed over: the first half is valid YAML that maps a alone.
      String current = Files.readString(bed.configFile);
      String firstHalf = current.substring(0, current.indexOf("  b:\n"));
      // The test bed's admin line ends the file: c goes before it.
      String secondHalf = current.substring(current.indexOf("  b:\n")).replace(TestBed.ADMIN_OFF, "")
          + tenant("c", "") + TestBed.ADMIN_OFF;
      Files.writeString(bed.configFile, firstHalf);
      assertStays("b served by its keep-warm backend while the file is half written", Duration.ofSeconds(1),
          () -> status(bed, "b.test") == 200 && warm.pid() == pid);
      Files.writeString(bed.configFile, secondHalf, java.nio.file.StandardOpenOption.APPEND);

      TestBed.await("the whole new config applied (c routable)", Duration.ofSeconds(20), () -> {
        assertEquals(200, status(bed, "b.test"), "b is in both configs: it never stops serving");
        return status(bed, "c.test") == 200;
      });
      assertEquals(Long.toString(pid), field(bed.get("b.test", "/").bodyAsString(), "pid"), "b kept its backend");
      assertFalse(dead(pid));
      List<String> reloads = logs.messages().stream().filter(m -> m.startsWith("config reloaded")).toList();
      assertEquals(1, reloads.size(), reloads.toString());
      assertTrue(reloads.get(0).endsWith("3 tenants (1 added, 0 removed, 0 changed)"), reloads.get(0));
    }
  }

  @Test
  void withWatchFalseAnEditAppliesOnlyOnReload() throws Exception {
    try (TestBed bed = TestBed.start(dir, "watch: false\n" + tenants("a"))) {
      bed.wakeport.watchConfig();
      assertFalse(bed.wakeport.watching(), "watch: false: no watcher at all");
      // A watcher of our own sees the edit settle: by then a wakeport that watched would have taken it.
      java.util.concurrent.CountDownLatch settled = new java.util.concurrent.CountDownLatch(1);
      try (ConfigWatcher control = new ConfigWatcher(List.of(dir), bed.configFile::equals,
          () -> WatchSettings.DEFAULT_QUIET, settled::countDown)) {
        bed.rewrite("watch: false\n" + tenants("a", "b"));
        assertTrue(settled.await(30, TimeUnit.SECONDS), "the edit settled");
      }
      assertEquals(404, status(bed, "b.test"), "not applied without a reload");
      assertTrue(bed.wakeport.reload(), "HUP's reload applies it");
      assertEquals(200, status(bed, "b.test"));
      assertFalse(bed.wakeport.watching());
    }
  }

  @Test
  void aReloadCanTurnTheWatcherOnAndOff() throws Exception {
    try (TestBed bed = TestBed.start(dir, QUICK + tenants("a"))) {
      bed.wakeport.watchConfig();
      assertTrue(bed.wakeport.watching());
      bed.rewrite("watch: false\n" + tenants("a", "b"));
      TestBed.await("the watcher applied the edit that stops it", Duration.ofSeconds(10),
          () -> !bed.wakeport.watching() && status(bed, "b.test") == 200);
      bed.rewrite(QUICK + tenants("a", "b"));
      assertTrue(bed.wakeport.reload());
      assertTrue(bed.wakeport.watching());
      bed.rewrite(QUICK + tenants("a", "b", "c"));
      TestBed.await("c routable through the watcher started by the reload", Duration.ofSeconds(10),
          () -> status(bed, "c.test") == 200);
    }
  }

  @Test
  void aBadWatchValueIsAProblemWithFileLineAndKey() throws Exception {
    Map<String, String> bad = Map.of(
        "watch: sometimes\n", "wakeport.yaml:2: watch: must be true, false (reload on HUP only) or a mapping such as "
            + "{quiet: 2s}, not 'sometimes'",
        "watch: {quiet: soon}\n", "wakeport.yaml:2: watch.quiet: 'soon' is not a duration",
        "watch:\n  quiet: 0s\n", "wakeport.yaml:3: watch.quiet: must be longer than 0 and at most 10m",
        "watch: {quiet: 2h}\n", "wakeport.yaml:2: watch.quiet: must be longer than 0 and at most 10m",
        "watch:\n  quite: 2s\n", "wakeport.yaml:3: watch.quite: unknown key (known keys: quiet)");
    Path file = dir.resolve("wakeport.yaml");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      Files.writeString(file, "state-dir: var\n" + e.getKey() + tenants("a"));
      ConfigException problem = assertThrows(ConfigException.class, () -> ConfigLoader.check(file), e.getKey());
      assertEquals(1, problem.problems().size(), problem.getMessage());
      assertTrue(problem.getMessage().contains(file + ":" + e.getValue().substring("wakeport.yaml:".length())),
          problem.getMessage());
    }
    Files.writeString(file, "state-dir: var\nwatch: {quiet: 500ms}\n" + tenants("a"));
    assertEquals(new WatchSettings(true, Duration.ofMillis(500)), ConfigLoader.check(file).watch());
    Files.writeString(file, "state-dir: var\nwatch: false\n" + tenants("a"));
    assertFalse(ConfigLoader.check(file).watch().enabled());
    Files.writeString(file, "state-dir: var\n" + tenants("a"));
    assertEquals(WatchSettings.defaults(), ConfigLoader.check(file).watch());
  }

  @Test
  void aBadWatchValueInAnEditKeepsTheRunningConfig() throws Exception {
    try (LogCapture logs = new LogCapture(Wakeport.class); TestBed bed = TestBed.start(dir, tenants("a"))) {
      bed.rewrite("watch: {quiet: soon}\n" + tenants("a", "b"));
      assertFalse(bed.wakeport.reload());
      assertEquals(404, status(bed, "b.test"));
      assertTrue(logs.messages().stream()
              .anyMatch(m -> m.matches(".*wakeport\\.yaml:\\d+: watch\\.quiet: 'soon' is not a duration.*")),
          logs.messages().toString());
    }
  }
}
