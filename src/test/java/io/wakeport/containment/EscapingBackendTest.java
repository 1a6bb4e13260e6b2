package io.wakeport.containment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backends that escape their launcher's process tree (double-forked, setsid, daemonized and
 * exiting 0), with each containment mechanism: every process they start is found and stopped on
 * idle stop, failed start and wakeport's exit. Each backend carries a token of the test's in its
 * environment, so the test finds its processes through /proc independently of wakeport.
 */
class EscapingBackendTest {

  private static final String SCRIPT = Path.of("test-fixtures", "escaping-backend.sh").toAbsolutePath().toString();

  @TempDir Path dir;

  static Stream<Arguments> shapesAndMechanisms() {
    Stream.Builder<Arguments> all = Stream.builder();
    for (String shape : new String[] {"double-fork", "setsid", "daemonize"}) {
      for (String mechanism : new String[] {"auto", "marker"}) {
        all.add(Arguments.of(shape, mechanism));
      }
    }
    return all.build();
  }

  private static String config(String shape, String mechanism, String token, String extra, String... args) {
    StringBuilder command = new StringBuilder("[\"" + SCRIPT + "\", " + shape + ", \"" + TestBed.JAVA + "\", -cp, \""
        + TestBed.CLASSES + "\", DemoBackend, --port, \"${port}\", --tenant, \"${tenant}\"");
    for (String a : args) {
      command.append(", \"").append(a).append('"');
    }
    command.append(']');
    return """
        containment: %s
        tenants:
          acme:
            hosts: [acme.test]
            stop-grace: 2s
            env: {ESCAPE_TOKEN: %s}
            command: %s
        %s""".formatted(mechanism, token, command, extra.indent(4));
  }

  /** Live processes whose environment holds ESCAPE_TOKEN={@code token}. */
  static Set<Long> withToken(String token) {
    byte[] needle = ("ESCAPE_TOKEN=" + token).getBytes(StandardCharsets.UTF_8);
    Set<Long> found = new HashSet<>();
    try (var dirs = Files.list(Path.of("/proc"))) {
      for (Path p : dirs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        try {
          if (allThreadsZombie(p)) continue;
          if (indexOf(Files.readAllBytes(p.resolve("environ")), needle) >= 0) {
            found.add(Long.parseLong(name));
          }
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return found;
  }

  /** A leader shows 'Z' while its other threads still run: only a process with no live thread is gone. */
  private static boolean allThreadsZombie(Path proc) throws IOException {
    try (var tasks = Files.list(proc.resolve("task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          if (stat.charAt(stat.lastIndexOf(')') + 2) != 'Z') return false;
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    }
    return true;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @ParameterizedTest(name = "{0} with containment {1}")
  @MethodSource("shapesAndMechanisms")
  void anEscapedBackendIsStoppedOnIdleStopStartedAgainAsOursAndStoppedWhenWakeportExits(String shape, String mechanism)
      throws Exception {
    String token = UUID.randomUUID().toString();
    try (LogCapture logs = new LogCapture("io.wakeport")) {
      TestBed bed = TestBed.start(dir, config(shape, mechanism, token, "idle-timeout: 1s"));
      try {
        assertTrue(logs.contains(mechanism.equals("marker") ? "containment: process marker" : "containment: a cgroup per instance"),
            "the start log says which mechanism runs");
        HttpResponse<Buffer> first = bed.get("acme.test", "/pid");
        assertEquals(200, first.statusCode());
        long firstPid = Long.parseLong(first.bodyAsString().trim());
        assertTrue(withToken(token).contains(firstPid), "the backend carries the test's token");
        int port = bed.wakeport.supervisor().instance("acme", "").address().port();
        if (shape.equals("daemonize")) {
          TestBed.await("the launcher's exit 0 noticed", Duration.ofSeconds(10),
              () -> logs.contains("exited 0 and left"));
          assertEquals(InstanceState.READY, bed.wakeport.supervisor().instance("acme", "").state(),
              "a launcher that exits 0 leaving its server does not end the instance");
        }

        TestBed.await("idle stop", Duration.ofSeconds(15),
            () -> bed.wakeport.supervisor().instance("acme", "").state() == InstanceState.STOPPED);
        TestBed.await("every process of the backend gone after the idle stop", Duration.ofSeconds(10),
            () -> withToken(token).isEmpty());
        // A dying process loses its environment (which the token scan reads) before its files are
        // closed, so its listening socket may outlive the scan by a moment.
        TestBed.await("nothing listening on the tenant's port", Duration.ofSeconds(5), () -> !listening(port));
        assertTrue(logs.contains("process tree gone"), "said only when true, and it is");

        HttpResponse<Buffer> again = bed.get("acme.test", "/pid");
        assertEquals(200, again.statusCode());
        assertNotNull(again.getHeader("Server-Timing"), "a cold start of a process of ours, not an escapee's port");
        assertNotEquals(firstPid, Long.parseLong(again.bodyAsString().trim()));
        assertFalse(withToken(token).isEmpty());
      } finally {
        bed.close();
      }
      TestBed.await("every process of the backend gone after wakeport's exit", Duration.ofSeconds(15),
          () -> withToken(token).isEmpty());
    }
  }

  @ParameterizedTest(name = "{0} with containment {1}")
  @MethodSource("shapesAndMechanisms")
  void anEscapedBackendThatNeverGetsReadyIsStoppedWhenItsStartFails(String shape, String mechanism) throws Exception {
    String token = UUID.randomUUID().toString();
    try (TestBed bed = TestBed.start(dir, config(shape, mechanism, token, "start-timeout: 1500ms", "--boot-delay", "600000"))) {
      HttpResponse<Buffer> response = bed.get("acme.test", "/");
      assertEquals(503, response.statusCode());
      TestBed.await("every process of the failed start gone", Duration.ofSeconds(15), () -> withToken(token).isEmpty());
    }
  }

  @ParameterizedTest(name = "containment {0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"auto", "marker"})
  void aDaemonAnEarlierRunLeftOnThePortIsStoppedNotAdopted(String mechanism) throws Exception {
    String token = UUID.randomUUID().toString();
    // A fixed port: the daemon holds the very port the next wakeport wants.
    String config = "on-exit: keep\n" + config("daemonize", mechanism, token, "port: " + TestBed.freePort());
    long daemon;
    try (TestBed first = TestBed.start(dir, config)) {
      daemon = Long.parseLong(first.get("acme.test", "/pid").bodyAsString().trim());
    }
    assertTrue(withToken(token).contains(daemon), "on-exit: keep leaves the daemon running");
    // Its launcher is long gone, so its pid file names no live process: nothing to adopt.
    try (TestBed second = TestBed.start(dir, config.replace("on-exit: keep\n", ""))) {
      HttpResponse<Buffer> response = second.get("acme.test", "/pid");
      assertEquals(200, response.statusCode());
      assertNotEquals(daemon, Long.parseLong(response.bodyAsString().trim()), "served by a new start, not the escapee");
      assertNotNull(response.getHeader("Server-Timing"), "a cold start");
      assertFalse(withToken(token).contains(daemon), "the escapee was stopped");
    }
    TestBed.await("all gone at exit", Duration.ofSeconds(15), () -> withToken(token).isEmpty());
  }
}
