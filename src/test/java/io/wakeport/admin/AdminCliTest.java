package io.wakeport.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI commands over the admin API, each a JVM of its own as an operator runs it, against a running wakeport. */
class AdminCliTest {

  @TempDir Path dir;

  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void statusAndStopFindTheAdminListenerFromTheConfig() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      String config = bed.configFile.toString();
      try (Child status = Child.wakeport("status", "--config", config)) {
        assertEquals(0, status.exitCode(WAIT), status::printed);
        assertTrue(status.stdout().get(0).startsWith("TENANT"), status::printed);
        assertTrue(status.stdout().stream().anyMatch(l -> l.startsWith("acme ") && l.contains("READY")),
            status::printed);
        assertTrue(status.stdout().stream().noneMatch(l -> l.startsWith("CLUSTER") || l.startsWith("FORWARDED")),
            "a single machine: no cluster section\n" + status.printed());
      }
      try (Child stop = Child.wakeport("stop", "acme", "--config", config)) {
        assertEquals(0, stop.exitCode(WAIT), stop::printed);
        assertTrue(stop.stdout().contains("acme: STOPPED"), stop::printed);
      }
      assertEquals(InstanceState.STOPPED, bed.wakeport.supervisor().instance("acme", "").state());
      try (Child unknown = Child.wakeport("stop", "nobody", "--config", config)) {
        assertEquals(1, unknown.exitCode(WAIT), unknown::printed);
        assertTrue(unknown.stderr().stream().anyMatch(l -> l.startsWith("wakeport: no tenant nobody")),
            unknown::printed);
      }
      try (Child logs = Child.wakeport("logs", "acme", "--config", config)) {
        assertEquals(0, logs.exitCode(WAIT), logs::printed);
        assertTrue(logs.stdout().stream().anyMatch(l -> l.contains("demo backend acme")), logs::printed);
      }
    }
  }

  @Test
  void withWakeportNotRunningItSaysSoInOneLine() throws Exception {
    int adminPort = TestBed.freePort();
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        state-dir: var
        admin: {listen: 127.0.0.1:%d}
        %s""".formatted(TestBed.freePort(), adminPort, TestBed.acmeTenant("port: 1")));
    Files.createDirectories(dir.resolve("var"));
    AdminToken.loadOrCreate(dir.resolve("var/admin.token"));
    try (Child status = Child.wakeport("status", "--config", config.toString())) {
      assertEquals(3, status.exitCode(WAIT), status::printed);
      assertEquals("wakeport: cannot reach the admin listener at 127.0.0.1:" + adminPort
          + ": connection refused (is wakeport running with this config?)", status.stderr().get(0), status::printed);
    }
  }

  @Test
  void aUnixSocketListenerIsOwnerOnlyAndTheCliUsesIt() throws Exception {
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        state-dir: var
        admin: {listen: "unix:var/admin.sock"}
        %s""".formatted(TestBed.freePort(), TestBed.acmeTenant("port: " + TestBed.freePort())));
    try (Wakeport wakeport = Wakeport.start(ConfigLoader.load(config))) {
      Path socket = dir.resolve("var/admin.sock");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
      try (Child status = Child.wakeport("status", "--config", config.toString())) {
        assertEquals(0, status.exitCode(WAIT), status::printed);
        assertTrue(status.stdout().stream().anyMatch(l -> l.startsWith("acme ") && l.contains("STOPPED")),
            status::printed);
      }
    }
    assertTrue(Files.notExists(dir.resolve("var/admin.sock")), "the socket file goes with the listener");
  }
}
