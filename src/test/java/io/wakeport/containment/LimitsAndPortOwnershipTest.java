package io.wakeport.containment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.config.ResourceLimits;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-tenant limits enforced by the kernel, and a tenant's port given only to its own processes. */
class LimitsAndPortOwnershipTest {

  @TempDir Path dir;

  private static String javaCommand(String... jvmFlags) {
    List<String> parts = new ArrayList<>();
    parts.add("\"" + TestBed.JAVA + "\"");
    for (String f : jvmFlags) parts.add(f);
    parts.addAll(List.of("-cp", "\"" + TestBed.CLASSES + "\"", "DemoBackend", "--port", "\"${port}\"", "--tenant", "\"${tenant}\""));
    return "[" + String.join(", ", parts) + "]";
  }

  private static long pid(HttpResponse<Buffer> response) {
    return Long.parseLong(response.bodyAsString().trim());
  }

  @Test
  void aMemoryHogIsKilledByItsOwnLimitWhileItsNeighbourKeepsServing() throws Exception {
    String config = """
        tenants:
          hog:
            hosts: [hog.test]
            limits: {memory: 160M, cpu: 1.5, pids: 300}
            command: %s
          neighbour:
            hosts: [neighbour.test]
            command: %s
        """.formatted(javaCommand("-Xmx700m", "-XX:+UseSerialGC"), javaCommand());
    try (LogCapture logs = new LogCapture("io.wakeport"); TestBed bed = TestBed.start(dir, config)) {
      assumeTrue(bed.wakeport.supervisor().containment().unenforceable(new ResourceLimits(1 << 30, 1, 100, null)) == null,
          "this machine cannot enforce limits: " + bed.wakeport.supervisor().containment().describe());
      long hogPid = pid(bed.get("hog.test", "/pid"));
      long neighbourPid = pid(bed.get("neighbour.test", "/pid"));
      Instance hog = bed.wakeport.supervisor().instance("hog", "");
      ResourceUsage usage = bed.wakeport.supervisor().usage(hog).await(10, TimeUnit.SECONDS);
      assertTrue(usage.memoryBytes() > 8 << 20 && usage.memoryBytes() < 160L << 20, "memory in use is readable: " + usage);
      assertTrue(usage.cpuNanos() > 0 && usage.processes() >= 1, "CPU time and processes are readable: " + usage);

      int status;
      try {
        status = bed.get("hog.test", "/alloc?mb=500").statusCode();
      } catch (Exception connectionDied) {
        status = -1;
      }
      assertNotEquals(200, status, "the hog cannot take 500 MB under a 160M limit");
      TestBed.await("the OOM kill noticed", Duration.ofSeconds(20), () -> hog.oomKills() > 0);
      TestBed.await("the crash logged with its reason", Duration.ofSeconds(10),
          () -> logs.contains("killed by its memory limit (limits: memory 160M"));
      assertTrue(ProcessHandle.of(hogPid).map(h -> !h.isAlive()).orElse(true));

      HttpResponse<Buffer> neighbour = bed.get("neighbour.test", "/pid");
      assertEquals(200, neighbour.statusCode());
      assertEquals(neighbourPid, pid(neighbour), "the neighbour was never touched");
      HttpResponse<Buffer> hogAgain = bed.get("hog.test", "/pid");
      assertEquals(200, hogAgain.statusCode(), "the hog starts again on its next request");
    }
  }

  @Test
  void limitsTheMachineCannotEnforceAreReportedWithTheirLine() throws Exception {
    String config = """
        containment: marker
        tenants:
          acme:
            hosts: [acme.test]
            limits: {memory: 256M}
            command: %s
        """.formatted(javaCommand());
    try (LogCapture logs = new LogCapture("io.wakeport"); TestBed bed = TestBed.start(dir, config)) {
      assertTrue(logs.messages().stream().anyMatch(m -> m.contains("wakeport.yaml:9: tenants.acme.limits: limits cannot be enforced")),
          "start-up says so, at the line: " + logs.messages());
    }
  }

  @Test
  void aSquatterRunningAsAnotherUserGetsNoTraffic() throws Exception {
    assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "needs root to run a process as another user");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
    // The squatter (user nobody) must be able to read its class files.
    Path shared = Files.createTempDirectory(Path.of("/tmp"), "wakeport-squatter");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (var classes = Files.list(Path.of(TestBed.CLASSES))) {
      for (Path c : classes.filter(p -> p.getFileName().toString().startsWith("DemoBackend")).toList()) {
        Path copy = Files.copy(c, shared.resolve(c.getFileName()));
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
      }
    }
    int port = TestBed.freePort();
    Process squatter = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        TestBed.JAVA, "-cp", shared.toString(), "DemoBackend", "--port", Integer.toString(port), "--tenant", "squatter")
        .redirectErrorStream(true).redirectOutput(dir.resolve("squatter.log").toFile()).start();
    try {
      TestBed.await("the squatter listens", Duration.ofSeconds(20), () -> EscapingBackendTest.listening(port));
      String config = """
          tenants:
            acme:
              hosts: [acme.test]
              port: %d
              command: %s
          """.formatted(port, javaCommand());
      try (LogCapture logs = new LogCapture("io.wakeport"); TestBed bed = TestBed.start(dir, config)) {
        HttpResponse<Buffer> response = bed.get("acme.test", "/pid");
        assertEquals(503, response.statusCode(), "never the squatter's answer: " + response.bodyAsString());
        assertNotEquals(Long.toString(squatter.pid()), response.bodyAsString().trim());
        TestBed.await("the log names the squatter", Duration.ofSeconds(5), () -> logs.messages().stream()
            .anyMatch(m -> m.contains("port " + port + " is served by pid " + squatter.pid()) && m.contains("nobody")));
        assertNotEquals(InstanceState.READY, bed.wakeport.supervisor().instance("acme", "").state());
      }
    } finally {
      squatter.destroyForcibly().waitFor();
      try (var files = Files.list(shared)) {
        for (Path f : files.toList()) Files.delete(f);
      }
      Files.delete(shared);
    }
  }

  @Test
  void aListenerOfWakeportsOwnUserIsRefusedWhenTheTenantSaysSo() throws Exception {
    try (java.net.ServerSocket stranger = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
         LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir, TestBed.foreignTenant(stranger.getLocalPort(), "foreign-listener: refuse"))) {
      HttpResponse<Buffer> response = bed.get("acme.test", "/");
      assertEquals(503, response.statusCode());
      assertTrue(logs.contains("a process wakeport did not start (foreign-listener: refuse)"), "the log says why");
    }
  }
}
