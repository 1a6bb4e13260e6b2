package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.TestBed;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend killed with SIGKILL while ready: the next request never reached a live process, so it
 * is held while the instance starts again and then served, instead of answered 502.
 */
class BackendDeathTest {

  private static final int ROUNDS = 20;
  /** Every kill is a crash: a crash loop must not put the tenant into backoff during the test. */
  private static final String NO_BACKOFF = "backoff: {after: 1000, within: 1s}";

  @TempDir Path dir;

  private static Instance instance(TestBed bed) {
    return bed.wakeport.supervisor().instance("acme", "");
  }

  private static long pidOf(HttpResponse<Buffer> response) {
    return Long.parseLong(field(response.bodyAsString(), "pid"));
  }

  /** SIGKILL to the instance's process, the way an OOM killer or an operator's kill -9 does it. */
  private static long kill(TestBed bed) {
    Instance instance = instance(bed);
    assertEquals(InstanceState.READY, instance.state());
    long pid = instance.pid();
    assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly(), "SIGKILL sent to " + pid);
    return pid;
  }

  /** Until a connect to the port is refused (polls with 1 ms connects: no fixed sleep). */
  private static void awaitRefused(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket()) {
        probe.setSoLinger(true, 0);
        probe.connect(new InetSocketAddress("127.0.0.1", port), 50);
      } catch (ConnectException refused) {
        return;
      } catch (SocketTimeoutException | SocketException dying) {
        // the dying process's backlog is full, or it reset the connect as it closed: try again
      }
    }
    throw new AssertionError("port " + port + " still accepts connections 10 s after the kill");
  }

  @Test
  void aGetRightAfterAKill9IsServedByANewProcess() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(NO_BACKOFF))) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      for (int round = 1; round <= ROUNDS; round++) {
        long spawns = bed.spawnCount("acme");
        long killed = kill(bed);
        HttpResponse<Buffer> next = bed.get("acme.test", "/");
        assertEquals(200, next.statusCode(), "round " + round + ": " + next.bodyAsString());
        assertNotEquals(killed, pidOf(next), "round " + round + ": served by a new process");
        assertEquals(spawns + 1, bed.spawnCount("acme"), "round " + round + ": exactly one new spawn");
      }
    }
  }

  @Test
  void aPostRightAfterAKill9ReachesANewProcessWithItsWholeBody() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(NO_BACKOFF))) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      for (int round = 1; round <= ROUNDS; round++) {
        byte[] body = ("round " + round + " of a small form post\n").repeat(round * 10).getBytes(StandardCharsets.UTF_8);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        long spawns = bed.spawnCount("acme");
        int port = instance(bed).address().port();
        kill(bed);
        // Once the kill has taken effect at the socket (the port refuses): for a few milliseconds
        // before that, a SIGKILLed JVM's kernel still accepts connections and takes the bytes a
        // pooled connection sends, and a POST that went in there may not be sent twice.
        awaitRefused(port);
        HttpResponse<Buffer> echoed = bed.request(HttpMethod.POST, "acme.test", "/echo")
            .putHeader("Content-Type", "text/plain")
            .sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
        assertEquals(200, echoed.statusCode(), "round " + round + ": " + echoed.bodyAsString());
        assertEquals(Integer.toString(body.length), field(echoed.bodyAsString(), "length"), "round " + round);
        assertEquals(sha256, field(echoed.bodyAsString(), "sha256"), "round " + round + ": the body arrived intact");
        assertEquals(spawns + 1, bed.spawnCount("acme"), "round " + round + ": exactly one new spawn");
      }
    }
  }

  /** One request of the traffic: when it was sent and answered (System.nanoTime) and how. */
  private record Sent(long sentNanos, long doneNanos, int status, long pid, String detail) {}

  @Test
  void aKill9InTheMiddleOfTrafficFailsAtMostTheRequestsInFlightAndStartsOneNewProcess() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(NO_BACKOFF))) {
      long first = pidOf(bed.get("acme.test", "/"));
      int clients = 4;
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger inFlight = new AtomicInteger();
      ConcurrentLinkedQueue<Sent> log = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Thread t = new Thread(() -> {
          while (!stop.get()) {
            long sent = System.nanoTime();
            inFlight.incrementAndGet();
            try {
              HttpResponse<Buffer> r = bed.get("acme.test", "/");
              long pid = r.statusCode() == 200 ? pidOf(r) : -1;
              log.add(new Sent(sent, System.nanoTime(), r.statusCode(), pid, r.bodyAsString()));
            } catch (Exception e) {
              log.add(new Sent(sent, System.nanoTime(), -1, -1, e.toString()));
            } finally {
              inFlight.decrementAndGet();
            }
          }
        }, "traffic-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      try {
        TestBed.await("traffic on keep-alive connections", Duration.ofSeconds(20), () -> log.size() >= 200);
        long spawns = bed.spawnCount("acme");
        int inFlightBefore = inFlight.get();
        long killStarted = System.nanoTime();
        long killed = kill(bed);
        long killReturned = System.nanoTime();
        int inFlightAfter = inFlight.get();
        assertEquals(first, killed);
        // The new process is ready once a request is answered by it; then some more traffic.
        TestBed.await("a new process serving", Duration.ofSeconds(30),
            () -> log.stream().anyMatch(s -> s.status == 200 && s.pid != killed));
        long readyAgain = System.nanoTime();
        int answeredThen = log.size();
        TestBed.await("traffic after the restart", Duration.ofSeconds(20), () -> log.size() >= answeredThen + 200);
        stop.set(true);
        for (Thread t : threads) {
          t.join(TimeUnit.SECONDS.toMillis(70));
        }

        List<Sent> all = new ArrayList<>(log);
        // In flight at the kill: sent before it returned and not answered before it began.
        long overlapping = all.stream().filter(s -> s.sentNanos < killReturned && s.doneNanos > killStarted).count();
        List<Sent> failed = all.stream().filter(s -> s.status != 200).toList();
        assertTrue(failed.size() <= overlapping, failed.size() + " failures but only " + overlapping
            + " requests in flight at the kill (" + inFlightBefore + " just before it, " + inFlightAfter
            + " just after): " + failed);
        for (Sent s : failed) {
          assertTrue(s.sentNanos < killReturned && s.doneNanos > killStarted,
              "a request not in flight at the kill failed: " + s);
        }
        List<Sent> afterKill = all.stream().filter(s -> s.sentNanos >= killReturned).toList();
        assertTrue(afterKill.stream().allMatch(s -> s.status == 200 && s.pid != killed),
            "every request sent after the kill is served by the new process: "
                + afterKill.stream().filter(s -> s.status != 200 || s.pid == killed).toList());
        assertTrue(all.stream().filter(s -> s.sentNanos >= readyAgain).count() >= 100);
        assertEquals(spawns + 1, bed.spawnCount("acme"), "exactly one new spawn");
        assertEquals(1, all.stream().filter(s -> s.status == 200 && s.pid != killed).mapToLong(Sent::pid).distinct().count(),
            "one new process served everything after the kill");
      } finally {
        stop.set(true);
        for (Thread t : threads) {
          t.join(TimeUnit.SECONDS.toMillis(70));
        }
      }
    }
  }
}
