package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Supervisor;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tenant that cannot be started gets a clear 503 naming only the tenant, and the log says why. */
class StartFailureTest {

  @TempDir Path dir;

  private static void assertUnavailablePage(HttpResponse<Buffer> r) {
    assertEquals(503, r.statusCode());
    assertNotNull(r.getHeader("Retry-After"), "503 says when to retry");
    assertTrue(Integer.parseInt(r.getHeader("Retry-After")) > 0);
    String body = r.bodyAsString();
    assertTrue(body.contains("acme"), "the page names the tenant: " + body);
    for (String leak : new String[] {"DemoBackend", "java", "test-classes", "/nonexistent", "exit", "code"}) {
      assertFalse(body.contains(leak), "the page leaks '" + leak + "': " + body);
    }
  }

  @Test
  void processExitingBeforeReadyGives503AndLogsItsLastOutput() throws Exception {
    // A browser's request (text/html): without the waiting page, a slow JVM start cannot turn it into one.
    String config = TestBed.acmeTenant("waiting-page: off", "--exit-before-ready", "3");
    try (LogCapture logs = new LogCapture(Supervisor.class); TestBed bed = TestBed.start(dir, config)) {
      HttpResponse<Buffer> r = bed.request(io.vertx.core.http.HttpMethod.GET, "acme.test", "/")
          .putHeader("Accept", "text/html").send().await();
      assertUnavailablePage(r);
      assertTrue(r.getHeader("Content-Type").startsWith("text/html"));
      TestBed.await("failure logged", Duration.ofSeconds(5), () -> logs.contains("exited with code 3 before it was ready"));
      assertTrue(logs.contains("fatal: simulated boot failure"), "the backend's last output is logged: " + logs.messages());
    }
  }

  /**
   * An outgoing connection's local port is bound but does not listen: the port probe finds it
   * closed, so the backend is started, and its bind fails. The log says why, not just "exit 1".
   */
  @Test
  void aBackendWhosePortIsHeldByAnotherProcessGives503AndTheLogSaysThePortIsInUse() throws Exception {
    try (java.net.Socket holder = new java.net.Socket()) {
      // Port 0, as a connect would: the kernel picks the port from its ephemeral range.
      holder.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
      int port = holder.getLocalPort();
      String config = """
          tenants:
            acme:
              hosts: [acme.test]
              port: %d
              command: %s
          """.formatted(port, demoCommand());
      io.wakeport.config.KernelPorts kernel = io.wakeport.config.KernelPorts.current();
      try (LogCapture logs = new LogCapture(Supervisor.class); LogCapture startup = new LogCapture(io.wakeport.Wakeport.class);
          TestBed bed = TestBed.start(dir, config)) {
        assertUnavailablePage(bed.get("acme.test", "/"));
        String inUse = "exited with code 1 before it was ready: port " + port + " is in use by another process";
        TestBed.await("failure logged", Duration.ofSeconds(10), () -> logs.contains(inUse));
        assertTrue(logs.contains("Address already in use"), "the backend's own output follows: " + logs.messages());
        if (kernel != null && kernel.contains(port)) {
          assertTrue(logs.contains(inUse + " (it lies in the kernel's ephemeral range " + kernel.range()
              + ", which outgoing connections use)"), logs.messages().toString());
          assertTrue(startup.contains("tenants.acme.port: port " + port + " lies in the kernel's ephemeral port range"),
              "start-up warns of the port: " + startup.messages());
        }
      }
    }
  }

  @Test
  void commandThatCannotBeExecutedGives503() throws Exception {
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            command: [/nonexistent/bin/image, "${port}"]
        """;
    try (LogCapture logs = new LogCapture(Supervisor.class); TestBed bed = TestBed.start(dir, config)) {
      assertUnavailablePage(bed.get("acme.test", "/"));
      assertTrue(logs.contains("cannot execute /nonexistent/bin/image"), logs.messages().toString());
      // The failure is not sticky: the next request tries again (and fails again, cleanly).
      assertUnavailablePage(bed.get("acme.test", "/"));
    }
  }

  @Test
  void startTimeoutGives503AndKillsTheSlowProcess() throws Exception {
    String config = TestBed.acmeTenant("start-timeout: 700ms\n", "--boot-delay", "30000");
    try (LogCapture logs = new LogCapture(Supervisor.class); TestBed bed = TestBed.start(dir, config)) {
      assertUnavailablePage(bed.get("acme.test", "/"));
      assertTrue(logs.contains("not ready after start-timeout 700 ms"), logs.messages().toString());
      String pidLine = TestBed.lines(bed.logFile("acme")).stream().filter(l -> l.endsWith("booting")).findFirst().orElseThrow();
      long pid = Long.parseLong(pidLine.replaceAll(".* pid (\\d+) booting", "$1"));
      TestBed.await("timed-out process killed", Duration.ofSeconds(15),
          () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
    }
  }
}
