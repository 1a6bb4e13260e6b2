package io.wakeport.supervision;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The life of one backend instance: idle stop, cold start again, crashes, backoff, stopping, adoption. */
class LifecycleTest {

  @TempDir Path dir;

  private static long pidOf(HttpResponse<Buffer> response) {
    return Long.parseLong(field(response.bodyAsString(), "pid"));
  }

  private static boolean dead(long pid) {
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  private static Instance instance(TestBed bed) {
    return bed.wakeport.supervisor().instance("acme", "");
  }

  @Test
  void anIdleInstanceIsStoppedAndTheNextRequestStartsItAgain() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("idle-timeout: 1s"))) {
      long first = pidOf(bed.get("acme.test", "/"));
      TestBed.await("idle stop", Duration.ofSeconds(10), () -> instance(bed).state() == InstanceState.STOPPED);
      TestBed.await("process gone", Duration.ofSeconds(5), () -> dead(first));
      HttpResponse<Buffer> again = bed.get("acme.test", "/");
      assertEquals(200, again.statusCode());
      assertNotNull(again.getHeader("Server-Timing"), "a cold start again, on the same port");
      assertNotEquals(first, pidOf(again));
    }
  }

  @Test
  void aRequestInFlightKeepsTheInstanceAwakePastItsIdleTimeout() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("idle-timeout: 500ms"))) {
      long pid = pidOf(bed.get("acme.test", "/"));
      // A 2.5 s request spans five idle timeouts: the instance must still serve it.
      HttpResponse<Buffer> slow = bed.get("acme.test", "/slow?ms=2500");
      assertEquals(200, slow.statusCode());
      assertEquals("slept=2500", slow.bodyAsString().trim());
      assertFalse(dead(pid));
      TestBed.await("idle stop after the request", Duration.ofSeconds(10), () -> dead(pid));
    }
  }

  @Test
  void anOpenWebSocketKeepsTheInstanceAwakeUntilItCloses() throws Exception {
    String config = """
        tenants:
          acme:
            paths: [/ws]
            idle-timeout: 500ms
            command: ["%s", -cp, "%s", io.wakeport.testing.WebSocketBackend, "${port}"]
        """.formatted(TestBed.JAVA, System.getProperty("java.class.path"));
    try (TestBed bed = TestBed.start(dir, config)) {
      // Held in a variable: an unreachable WebSocketClient is cleaned up, connections and all.
      io.vertx.core.http.WebSocketClient wsClient = bed.vertx.createWebSocketClient();
      io.vertx.core.http.WebSocket ws = wsClient
          .connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1").setPort(bed.port).setURI("/ws"))
          .await(30, TimeUnit.SECONDS);
      io.vertx.core.Promise<String> echoed = io.vertx.core.Promise.promise();
      ws.textMessageHandler(echoed::tryComplete);
      ws.writeTextMessage("hello");
      assertEquals("hello", echoed.future().await(10, TimeUnit.SECONDS));
      long pid = instance(bed).pid();
      // Six idle timeouts with the stream open and silent: the instance must stay up.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < until) {
        assertEquals(InstanceState.READY, instance(bed).state(), "stopped while a WebSocket was open");
        Thread.sleep(50);
      }
      ws.close().await(5, TimeUnit.SECONDS);
      TestBed.await("idle stop once the stream closed", Duration.ofSeconds(10), () -> dead(pid));
      wsClient.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void ignoredRequestsNeitherStartNorKeepATenantAwake() throws Exception {
    String extra = """
        idle-timeout: 1500ms
        ignore:
          paths: [/healthz]
          user-agents: ["(?i)uptimerobot"]
          status: 503
        """;
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(extra))) {
      HttpResponse<Buffer> cold = bed.request(HttpMethod.GET, "acme.test", "/")
          .putHeader("User-Agent", "Mozilla/5.0 (compatible; UptimeRobot/2.0)").send().await();
      assertEquals(503, cold.statusCode(), "an uptime checker does not start the tenant");
      assertEquals(0, bed.spawnCount("acme"));
      assertEquals(503, bed.get("acme.test", "/healthz").statusCode());
      assertEquals(0, bed.spawnCount("acme"));

      long pid = pidOf(bed.get("acme.test", "/"));
      assertEquals(200, bed.get("acme.test", "/healthz").statusCode(), "served while the tenant runs");
      // Keep probing: the probes must not keep it awake.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!dead(pid) && System.nanoTime() < deadline) {
        bed.get("acme.test", "/healthz");
        Thread.sleep(100);
      }
      assertTrue(dead(pid), "ignored traffic kept the tenant awake");
    }
  }

  @Test
  void stoppingAWrapperThatForksLeavesNoProcessBehind() throws Exception {
    String wrapper = Path.of("test-fixtures/forking-wrapper.sh").toAbsolutePath().toString();
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            idle-timeout: 1s
            command: ["%s", "%s", -cp, "%s", DemoBackend, --port, "${port}", --tenant, "${tenant}"]
        """.formatted(wrapper, TestBed.JAVA, TestBed.CLASSES);
    try (TestBed bed = TestBed.start(dir, config)) {
      long backend = pidOf(bed.get("acme.test", "/"));
      long wrapperPid = instance(bed).pid();
      assertNotEquals(wrapperPid, backend, "the backend is the wrapper's child");
      List<Long> tree = ProcessHandle.of(wrapperPid).orElseThrow().descendants().map(ProcessHandle::pid).toList();
      assertTrue(tree.contains(backend));
      assertTrue(tree.size() >= 2, "the wrapper also forked a sleeper: " + tree);
      TestBed.await("idle stop", Duration.ofSeconds(10), () -> instance(bed).state() == InstanceState.STOPPED);
      assertTrue(dead(wrapperPid));
      for (long pid : tree) {
        assertTrue(dead(pid), "pid " + pid + " of the wrapper's tree was orphaned");
      }
    }
  }

  @Test
  void aBackendThatIgnoresTheStopSignalIsKilledAfterTheGracePeriod() throws Exception {
    // The shell ignores TERM, and so does the JVM it becomes (a JVM keeps an ignored TERM ignored).
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            stop-signal: TERM
            stop-grace: 1s
            command: [sh, -c, 'trap "" TERM; exec "$0" -cp "$1" DemoBackend --port "$PORT" --tenant acme', "%s", "%s"]
        """.formatted(TestBed.JAVA, TestBed.CLASSES);
    try (TestBed bed = TestBed.start(dir, config)) {
      long pid = pidOf(bed.get("acme.test", "/"));
      long began = System.nanoTime();
      bed.wakeport.supervisor().stop(instance(bed), "test").await(30, TimeUnit.SECONDS);
      long tookMillis = (System.nanoTime() - began) / 1_000_000;
      assertTrue(dead(pid));
      assertTrue(tookMillis >= 900, "KILL came only after the grace period (" + tookMillis + " ms)");
    }
  }

  @Test
  void aCrashIsNoticedAtOnceItsInFlightPostGets502AndTheNextRequestRestartsIt() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      long pid = pidOf(bed.get("acme.test", "/"));
      TestBed.await("the first request's lease released", Duration.ofSeconds(5), () -> instance(bed).inFlight() == 0);
      // Not idempotent and already sent: it must not be sent twice, so it fails.
      Future<HttpResponse<Buffer>> inFlight = bed.request(HttpMethod.POST, "acme.test", "/slow?ms=20000")
          .sendBuffer(Buffer.buffer("order #1"));
      TestBed.await("request in flight", Duration.ofSeconds(5), () -> instance(bed).inFlight() == 1);
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      TestBed.await("crash noticed without a request", Duration.ofSeconds(5),
          () -> instance(bed).state() == InstanceState.CRASHED);
      HttpResponse<Buffer> broken = inFlight.await(10, TimeUnit.SECONDS);
      assertEquals(502, broken.statusCode());
      assertTrue(broken.bodyAsString().contains("acme"));
      HttpResponse<Buffer> again = bed.get("acme.test", "/");
      assertEquals(200, again.statusCode());
      assertNotEquals(pid, pidOf(again));
    }
  }

  @Test
  void anIdempotentRequestInFlightAtACrashIsSentOnceMoreToTheNewProcess() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      long pid = pidOf(bed.get("acme.test", "/"));
      TestBed.await("the first request's lease released", Duration.ofSeconds(5), () -> instance(bed).inFlight() == 0);
      Future<HttpResponse<Buffer>> inFlight = bed.request(HttpMethod.GET, "acme.test", "/slow?ms=3000").send();
      TestBed.await("request in flight", Duration.ofSeconds(5), () -> instance(bed).inFlight() == 1);
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      HttpResponse<Buffer> answered = inFlight.await(30, TimeUnit.SECONDS);
      assertEquals(200, answered.statusCode(), "a GET with no answer yet is retried, as nginx's proxy_next_upstream does");
      assertEquals(2, bed.spawnCount("acme"));
      assertNotEquals(pid, bed.wakeport.supervisor().instance("acme", "").pid());
    }
  }

  @Test
  void aCrashLoopPutsTheTenantIntoBackoffWithoutSpawning() throws Exception {
    String extra = """
        backoff: {after: 3, within: 60s, initial: 30s, max: 5m}
        """;
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(extra, "--exit-before-ready", "3"))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> r = bed.get("acme.test", "/");
        assertEquals(503, r.statusCode());
      }
      TestBed.await("backoff", Duration.ofSeconds(5), () -> instance(bed).state() == InstanceState.BACKOFF);
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> r = bed.get("acme.test", "/");
        assertEquals(503, r.statusCode());
        int retryAfter = Integer.parseInt(r.getHeader("Retry-After"));
        assertTrue(retryAfter > 20 && retryAfter <= 30, "Retry-After matches the 30 s backoff: " + retryAfter);
      }
      assertEquals(3, bed.spawnCount("acme"), "no spawn during backoff");
    }
  }

  @Test
  void httpReadinessHoldsRequestsUntilTheApplicationIsHealthy() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("ready: {http: /health}", "--ready-after", "800"))) {
      assertEquals("true", field(bed.get("acme.test", "/timing").bodyAsString(), "healthy"));
    }
  }

  @Test
  void tcpReadinessAloneWouldForwardBeforeTheApplicationIsHealthy() throws Exception {
    // The control for the readiness tests: with only the port checked, the request is early.
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("ready: tcp", "--ready-after", "800"))) {
      assertEquals("false", field(bed.get("acme.test", "/timing").bodyAsString(), "healthy"));
    }
  }

  @Test
  void logReadinessWaitsForTheMatchingLine() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("ready: {log: 'APP READY \\w+'}", "--ready-after", "800"))) {
      assertEquals("true", field(bed.get("acme.test", "/timing").bodyAsString(), "healthy"));
    }
  }

  @Test
  void settleDelaysReadinessAfterTheCheckPasses() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("ready: {tcp: true, settle: 700ms}"))) {
      String body = bed.get("acme.test", "/timing").bodyAsString();
      long sinceBound = Long.parseLong(field(body, "now")) - Long.parseLong(field(body, "bound"));
      assertTrue(sinceBound >= 650, "forwarded " + sinceBound + " ms after the port opened");
    }
  }

  @Test
  void onExitStopStopsEveryBackendAndAPortNotOursIsNeverSignalled() throws Exception {
    TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""));
    long pid = pidOf(bed.get("acme.test", "/"));
    bed.close();
    assertTrue(dead(pid), "on-exit: stop (the default) stops the backend");
    assertFalse(Files.exists(dir.resolve("var/run/acme.pid")), "and removes its pid file");
  }

  @Test
  void aRestartedWakeportAdoptsTheBackendsItLeftRunning() throws Exception {
    Path config = dir.resolve("wakeport.yaml");
    int port = TestBed.freePort();
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        admin: off
        state-dir: var
        on-exit: keep
        defaults:
          ports: %d-%d
        tenants:
          acme:
            hosts: [acme.test]
            idle-timeout: 2s
            command: %s
        """.formatted(port, 20000 + port % 100 * 100, 20000 + port % 100 * 100 + 99, demoCommand()));
    long pid;
    try (Wakeport first = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      pid = pidOf(client.get("acme.test", "/"));
    }
    assertFalse(dead(pid), "on-exit: keep leaves the backend running");
    assertTrue(Files.exists(dir.resolve("var/run/acme.pid")));

    try (Wakeport second = Wakeport.start(ConfigLoader.load(config));
        TestBed.Client client = new TestBed.Client(port)) {
      HttpResponse<Buffer> r = client.get("acme.test", "/");
      assertEquals(pid, pidOf(r), "the same process serves: no second spawn");
      assertEquals(pid, second.supervisor().instance("acme", "").pid());
      // Crash detection works on the adopted process too (it is not wakeport's child any more).
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      TestBed.await("adopted process's exit noticed", Duration.ofSeconds(10),
          () -> second.supervisor().instance("acme", "").state() == InstanceState.CRASHED);
      long restarted = pidOf(client.get("acme.test", "/"));
      assertNotEquals(pid, restarted);
      // And idle stop works on it.
      TestBed.await("idle stop", Duration.ofSeconds(15), () -> dead(restarted));
    }
    assertEquals(2, TestBed.lines(dir.resolve("var/logs/acme.log")).stream().filter(l -> l.endsWith("booting")).count(),
        "one spawn by each wakeport: the first, and the restart after the crash");
  }
}
