package io.wakeport.supervision;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The supervisor's limits with real backends: the running limit and least-recently-used idle
 * eviction, start slots, the bounded start queue (in number and in time), keep-warm and log
 * rotation.
 */
class SupervisionLimitsTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  // ---- max-running --------------------------------------------------------------------------

  @Test
  void pastMaxRunningTheLeastRecentlyUsedIdleInstanceIsStopped() throws Exception {
    String config = """
        max-running: 2
        defaults:
          idle-timeout: 10m
        tenants:
          a:
            hosts: [a.test]
            command: %1$s
          b:
            hosts: [b.test]
            command: %1$s
          c:
            hosts: [c.test]
            command: %1$s
        """.formatted(demoCommand());
    try (TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      HttpResponse<Buffer> a1 = ok(bed, "a.test", "/");
      HttpResponse<Buffer> b1 = ok(bed, "b.test", "/");
      HttpResponse<Buffer> a2 = ok(bed, "a.test", "/"); // b is now the least recently used
      long pidA = pidOf(a1);
      long pidB = pidOf(b1);
      assertEquals(pidA, pidOf(a2));
      assertTrue(alive(pidB), "b runs before c is asked for");

      HttpResponse<Buffer> c1 = ok(bed, "c.test", "/");
      assertEquals("c", field(c1.bodyAsString(), "tenant"));

      Instance a = instance(bed, "a");
      Instance b = instance(bed, "b");
      // c may only be spawned once the evicted b's process is gone, so by the time c answers b is STOPPED.
      assertNotEquals(InstanceState.STOPPING, b.state(),
          "BUG (StartQueue.admit, `running.size() - evictionsInProgress`): max-running 2 exceeded: c was"
              + " spawned and served while the evicted b (pid " + pidB + ", alive " + alive(pidB) + ") was still"
              + " STOPPING");
      assertEquals(InstanceState.STOPPED, b.state(),
          "max-running 2: starting c must first stop b, the least recently used idle instance");
      assertFalse(alive(pidB), "b's process (pid " + pidB + ") must be gone once c was served");
      assertEquals(-1, b.pid());
      assertEquals(InstanceState.READY, a.state(), "a was used after b, so it is kept");
      assertEquals(pidA, a.pid());
      assertTrue(alive(pidA));
      assertEquals(pidA, pidOf(ok(bed, "a.test", "/")),
          "a still answers from the same process");
      assertEquals(1, bed.spawnCount("a"));
      assertEquals(1, bed.spawnCount("c"));
    }
  }

  @Test
  void whenNoInstanceIsIdleAStartWaitsForOneToTurnIdle() throws Exception {
    String config = """
        max-running: 1
        defaults:
          idle-timeout: 10m
        tenants:
          a:
            hosts: [a.test]
            # A JVM answers QUIT with a thread dump and keeps running: stopping a takes the whole
            # grace (then KILL), so a start that does not wait for the eviction shows every time.
            stop-signal: QUIT
            stop-grace: 1s
            command: %1$s
          b:
            hosts: [b.test]
            command: %1$s
        """.formatted(demoCommand());
    try (OrderedLog logs = new OrderedLog(Instance.class, Supervisor.class);
        TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      long pidA = pidOf(ok(bed, "a.test", "/"));
      Instance a = instance(bed, "a");
      // The first request's lease ends just after its answer: wait for that, so that the lease
      // seen below is the slow request's and not this one's, on its way out.
      TestBed.await("the first request's lease released", WAIT, () -> a.inFlight() == 0);

      Queue<String> completed = new ConcurrentLinkedQueue<>();
      Future<HttpResponse<Buffer>> slow = bed.request(HttpMethod.GET, "a.test", "/slow?ms=1500").send()
          .andThen(ar -> completed.add("a-slow"));
      TestBed.await("a's slow request to hold a lease", WAIT, () -> a.inFlight() == 1);

      Future<HttpResponse<Buffer>> toB = bed.request(HttpMethod.GET, "b.test", "/").send()
          .andThen(ar -> completed.add("b"));
      TestBed.await("b to be waiting for a start", WAIT,
          () -> bed.wakeport.supervisor().instance("b", "") != null
              && bed.wakeport.supervisor().instance("b", "").state() == InstanceState.STARTING);

      HttpResponse<Buffer> slowResponse = slow.await(60, TimeUnit.SECONDS);
      assertEquals(200, slowResponse.statusCode());
      assertEquals("slept=1500", slowResponse.bodyAsString().trim(), "a's slow request ran to its end");
      HttpResponse<Buffer> bResponse = toB.await(60, TimeUnit.SECONDS);
      assertEquals(200, bResponse.statusCode(), bResponse.bodyAsString());
      assertEquals("b", field(bResponse.bodyAsString(), "tenant"));

      assertEquals(List.of("a-slow", "b"), new ArrayList<>(completed),
          "b must not be answered before a's in-flight request ends (max-running 1, a busy)");
      assertTrue(logs.indexOf(m -> m.startsWith("tenant a pid") && m.contains("-> STOPPING (max-running 1")) >= 0,
          "a must be evicted (its stop naming the running limit) to make room for b: " + logs.messages());
      TestBed.await("the evicted a to be STOPPED", WAIT, () -> a.state() == InstanceState.STOPPED);
      int aStopped = logs.indexOf(m -> m.startsWith("tenant a pid") && m.contains("-> STOPPED"));
      int bSpawned = logs.indexOf(m -> m.startsWith("tenant b spawned pid"));
      assertTrue(aStopped >= 0 && bSpawned >= 0, logs.messages().toString());
      assertTrue(bSpawned > aStopped,
          "BUG (StartQueue.admit, `running.size() - evictionsInProgress`): max-running 1 exceeded: b was"
              + " spawned while the evicted a was still STOPPING, so both processes ran at once; b may only be"
              + " spawned once a's process is gone. Log in order: " + logs.messages());

      assertEquals(InstanceState.STOPPED, a.state());
      assertFalse(alive(pidA), "a's process must be gone");
      assertEquals(InstanceState.READY, instance(bed, "b").state());
    }
  }

  // ---- max-starting -------------------------------------------------------------------------

  @Test
  void maxStartingOneSpawnsTheSecondBackendOnlyAfterTheFirstIsReady() throws Exception {
    String config = """
        max-starting: 1
        tenants:
          p:
            hosts: [p.test]
            command: %1$s
          q:
            hosts: [q.test]
            command: %1$s
        """.formatted(demoCommand("--boot-delay", "800"));
    try (OrderedLog logs = new OrderedLog(Instance.class, Supervisor.class);
        TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      Future<HttpResponse<Buffer>> p = bed.request(HttpMethod.GET, "p.test", "/").send();
      Future<HttpResponse<Buffer>> q = bed.request(HttpMethod.GET, "q.test", "/").send();
      Future.all(p, q).await(60, TimeUnit.SECONDS);
      assertEquals(200, p.result().statusCode(), p.result().bodyAsString());
      assertEquals(200, q.result().statusCode(), q.result().bodyAsString());
      assertEquals("p", field(p.result().bodyAsString(), "tenant"));
      assertEquals("q", field(q.result().bodyAsString(), "tenant"));

      int pSpawned = logs.indexOf(m -> m.startsWith("tenant p spawned pid"));
      int qSpawned = logs.indexOf(m -> m.startsWith("tenant q spawned pid"));
      assertTrue(pSpawned >= 0 && qSpawned >= 0, logs.messages().toString());
      String first = pSpawned < qSpawned ? "p" : "q";
      String second = pSpawned < qSpawned ? "q" : "p";
      int firstReady = logs.indexOf(m -> m.startsWith("tenant " + first + " pid") && m.contains("STARTING -> READY"));
      int secondStarting = logs.indexOf(m -> m.startsWith("tenant " + second + " pid") && m.contains("-> STARTING"));
      int secondSpawned = Math.max(pSpawned, qSpawned);
      assertTrue(firstReady >= 0, logs.messages().toString());
      assertTrue(secondStarting >= 0 && secondStarting < firstReady,
          "both were asked for at once, so " + second + " was waiting while " + first + " started: " + logs.messages());
      assertTrue(firstReady < secondSpawned,
          "max-starting 1: " + second + " may only be spawned after " + first + " is READY: " + logs.messages());
    }
  }

  // ---- max-queue and queue-timeout ----------------------------------------------------------

  @Test
  void maxQueueBoundsTheRequestsWaitingForAStart() throws Exception {
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            max-queue: 5
            command: %s
        """.formatted(demoCommand("--boot-delay", "1500"));
    try (TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        burst.add(bed.request(HttpMethod.GET, "acme.test", "/burst/" + i).send());
      }
      Future.join(burst).await(60, TimeUnit.SECONDS);
      int served = 0;
      int refused = 0;
      List<String> other = new ArrayList<>();
      for (Future<HttpResponse<Buffer>> f : burst) {
        assertTrue(f.succeeded(), "every request gets an answer: " + f.cause());
        HttpResponse<Buffer> r = f.result();
        if (r.statusCode() == 200) {
          served++;
        } else if (r.statusCode() == 503) {
          refused++;
          assertNotNull(r.getHeader("Retry-After"), "a 503 for a full queue says when to retry");
          assertTrue(Integer.parseInt(r.getHeader("Retry-After")) > 0);
        } else {
          other.add(r.statusCode() + " " + r.bodyAsString());
        }
      }
      assertEquals(List.of(), other);
      assertEquals(5, served, "max-queue 5: exactly 5 requests wait for the start and are served");
      assertEquals(25, refused, "the other 25 are turned away at once");
      assertEquals(1, bed.spawnCount("acme"), "exactly one spawn");
    }
  }

  @Test
  void aRequestWaitsNoLongerThanQueueTimeoutAndTheStartGoesOn() throws Exception {
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            queue-timeout: 500ms
            start-timeout: 30s
            command: %s
        """.formatted(demoCommand("--boot-delay", "3000"));
    try (TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      HttpResponse<Buffer> first = bed.get("acme.test", "/");
      Instance acme = instance(bed, "acme");
      assertEquals(503, first.statusCode(), first.bodyAsString());
      assertNotNull(first.getHeader("Retry-After"), "a 503 after queue-timeout says when to retry");
      assertTrue(Integer.parseInt(first.getHeader("Retry-After")) > 0);
      assertEquals(InstanceState.STARTING, acme.state(),
          "the 503 came from queue-timeout while the backend was still booting, not from a failed start");

      TestBed.await("acme READY", WAIT, () -> acme.state() == InstanceState.READY);
      long pid = acme.pid();
      HttpResponse<Buffer> later = bed.get("acme.test", "/");
      assertEquals(200, later.statusCode(), later.bodyAsString());
      assertEquals(Long.toString(pid), field(later.bodyAsString(), "pid"));
      assertEquals(1, bed.spawnCount("acme"), "the start went on after the waiting request gave up: one spawn");
    }
  }

  // ---- keep-warm ----------------------------------------------------------------------------

  @Test
  void minRunningStartsWithoutRequestsIsNeverIdleStoppedAndIsRestartedAfterACrash() throws Exception {
    String config = """
        tenants:
          warm:
            hosts: [warm.test]
            min-running: 1
            idle-timeout: 1s
            command: %s
        """.formatted(demoCommand());
    try (TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      Instance warm = bed.wakeport.supervisor().instance("warm", "");
      assertNotNull(warm, "min-running 1: the instance exists before any request");
      TestBed.await("warm READY without any request", WAIT, () -> warm.state() == InstanceState.READY);
      long pid = warm.pid();
      assertTrue(pid > 0 && alive(pid));
      assertEquals(1, bed.spawnCount("warm"));

      // Three idle-timeouts without traffic: a plain tenant would be stopped after ~1.25 s.
      assertStays("warm READY on pid " + pid + " with idle-timeout 1s and no traffic", Duration.ofSeconds(3),
          () -> warm.state() == InstanceState.READY && warm.pid() == pid);
      assertTrue(alive(pid));

      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      TestBed.await("warm restarted on a new pid without any request", WAIT,
          () -> warm.state() == InstanceState.READY && warm.pid() > 0 && warm.pid() != pid);
      long restarted = warm.pid();
      assertFalse(alive(pid));
      assertTrue(alive(restarted));
      assertEquals(2, bed.spawnCount("warm"));
      assertEquals(Long.toString(restarted), field(ok(bed, "warm.test", "/").bodyAsString(), "pid"));
    }
  }

  // ---- log rotation -------------------------------------------------------------------------

  @Test
  void aChattyBackendsLogIsRotatedAtLogMaxSizeAndItKeepsServing() throws Exception {
    long max = 64 * 1024;
    String config = """
        tenants:
          chatty:
            hosts: [chatty.test]
            log-max-size: 64KB
            command: %s
        """.formatted(demoCommand());
    try (TestBed bed = TestBed.start(dir, withOwnPorts(config))) {
      Path live = bed.logFile("chatty");
      Path rotated = live.resolveSibling("chatty.log.1");
      long pid = pidOf(ok(bed, "chatty.test", "/"));

      assertEquals("printed=20000", ok(bed, "chatty.test", "/print?lines=20000").bodyAsString().trim());
      assertTrue(Files.size(live) > 10 * max, "the backend wrote well past log-max-size");
      TestBed.await("chatty.log rotated to chatty.log.1", WAIT,
          () -> Files.exists(rotated) && size(rotated) > max && size(live) < 2 * max);

      // Again: the live log grows past the limit and is cut back once more.
      assertEquals("printed=20000", ok(bed, "chatty.test", "/print?lines=20000").bodyAsString().trim());
      assertTrue(size(live) > 10 * max, "the backend keeps writing to the live log after a rotation");
      TestBed.await("chatty.log rotated again", WAIT, () -> size(live) < 2 * max && size(rotated) > max);

      // Written after the truncation: the backend appends at the new end (no sparse file of the old size).
      assertEquals("printed=10", ok(bed, "chatty.test", "/print?lines=10").bodyAsString().trim());
      assertTrue(size(live) < 2 * max, "live log " + size(live) + " bytes after a rotation and 10 more lines");
      assertTrue(Files.readString(live).contains("line 9 of a chatty backend"), "new output lands in the live log");

      assertEquals(Long.toString(pid), field(ok(bed, "chatty.test", "/").bodyAsString(), "pid"),
          "the backend keeps serving from the same process");
      assertEquals(InstanceState.READY, instance(bed, "chatty").state());
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  /**
   * Gives each tenant a port the system just reported free, outside the 20000-32099 ranges test
   * beds draw from: a backend of another test bed on this machine that happens to hold a port of
   * the range would be taken for this tenant's backend (wakeport uses a port it finds open).
   */
  private static String withOwnPorts(String config) throws java.io.IOException {
    java.util.Set<Integer> used = new java.util.HashSet<>();
    StringBuilder out = new StringBuilder();
    for (String line : config.split("\n", -1)) {
      out.append(line).append('\n');
      if (line.trim().startsWith("hosts: [")) {
        int port;
        do {
          port = TestBed.freePort();
        } while (!used.add(port));
        out.append(line, 0, line.indexOf("hosts:")).append("port: ").append(port).append('\n');
      }
    }
    return out.toString();
  }

  private static HttpResponse<Buffer> ok(TestBed bed, String host, String path) throws Exception {
    HttpResponse<Buffer> r = bed.get(host, path);
    assertEquals(200, r.statusCode(), host + path + ": " + r.bodyAsString());
    return r;
  }

  /** The pid a demo backend answered with. */
  private static long pidOf(HttpResponse<Buffer> r) {
    String pid = field(r.bodyAsString(), "pid");
    assertNotNull(pid, "not an answer of the demo backend (its port served by another process?): " + r.bodyAsString());
    return Long.parseLong(pid);
  }

  private static Instance instance(TestBed bed, String tenant) {
    Instance instance = bed.wakeport.supervisor().instance(tenant, "");
    assertNotNull(instance, "no instance for tenant " + tenant);
    return instance;
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  /** Checks that {@code condition} holds throughout {@code period}, polling. */
  private static void assertStays(String what, Duration period, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + period.toNanos();
    while (System.nanoTime() < end) {
      assertTrue(condition.getAsBoolean(), "no longer true: " + what);
      Thread.sleep(20);
    }
    assertTrue(condition.getAsBoolean(), "no longer true: " + what);
  }

  /**
   * What several loggers log, in one list in the order it was logged: LogCapture keeps one list
   * per logger, which cannot tell whether a spawn came before or after another instance's transition.
   */
  private static final class OrderedLog implements AutoCloseable {

    private final List<Logger> loggers = new ArrayList<>();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    OrderedLog(Class<?>... sources) {
      appender.start();
      for (Class<?> source : sources) {
        Logger logger = (Logger) LoggerFactory.getLogger(source);
        logger.addAppender(appender);
        loggers.add(logger);
      }
    }

    List<String> messages() {
      synchronized (appender) { // AppenderBase.doAppend holds this lock while adding
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      }
    }

    int indexOf(Predicate<String> match) {
      List<String> messages = messages();
      for (int i = 0; i < messages.size(); i++) {
        if (match.test(messages.get(i))) {
          return i;
        }
      }
      return -1;
    }

    @Override
    public void close() {
      loggers.forEach(logger -> logger.detachAppender(appender));
    }
  }
}
