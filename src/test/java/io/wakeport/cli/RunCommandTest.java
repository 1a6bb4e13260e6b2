package io.wakeport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What {@code wakeport run} tells an operator: on its own command line, or from a JVM of its own. */
class RunCommandTest {

  private static final Duration EXIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void aFrontPortInUseIsOneLineNamingTheAddressAndTheKey() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Path config = config(taken.getLocalPort());
      try (Child wakeport = Child.wakeport("run", "--config", config.toString())) {
        assertNotEquals(0, wakeport.exitCode(EXIT), wakeport.printed());
        assertEquals(List.of("wakeport: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (listen in " + config
            + "): Address already in use"), wakeport.stderr(), wakeport.printed());
      }
    }
  }

  @Test
  void aDirectoryOrAMissingFileAsTheConfigIsOneLine() {
    Cli directory = cli("run", "--config", dir.toString());
    assertEquals(2, directory.code);
    assertEquals("wakeport: " + dir + ": is a directory, not a config file\n", directory.err);
    Cli missing = cli("run", "--config", dir.resolve("absent.yaml").toString());
    assertEquals(2, missing.code);
    assertEquals("wakeport: " + dir.resolve("absent.yaml") + ": no such file\n", missing.err);
  }

  @Test
  void helpOnEitherCommandPrintsItsUsageAndExitsZero() {
    for (String command : List.of("run", "check")) {
      for (String flag : List.of("--help", "-h")) {
        Cli help = cli(command, flag);
        assertEquals(0, help.code, command + " " + flag + ": " + help.err);
        assertTrue(help.out.startsWith("Usage: wakeport " + command), help.out);
        assertTrue(help.out.contains("--config"), help.out);
        assertEquals("", help.err);
      }
    }
  }

  @Test
  void logLinesStartWithTheDate() throws Exception {
    try (Child wakeport = Child.wakeport("run", "--config", config(TestBed.freePort()).toString())) {
      String listening = wakeport.awaitStderr("wakeport listening", EXIT, l -> l.contains("wakeport listening"));
      // The shipped logback.xml: a log kept for days must say which day a line is from.
      assertTrue(listening.matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  Wakeport - .*"), listening);
    }
  }

  @Test
  void startedUnderNohupWakeportSaysHangupCannotReload() throws Exception {
    Path config = config(TestBed.freePort());
    try (Child wakeport = Child.wakeport(List.of("nohup"), Map.of(), "run", "--config", config.toString())) {
      wakeport.awaitStderr("started", EXIT, l -> l.contains("started in"));
      assertEquals(1, wakeport.stderr().stream().filter(l -> l.contains("HUP is ignored")).count(), wakeport.printed());
      // Proof that the line is right: HUP neither reloads nor ends this wakeport, while an edit still applies.
      wakeport.signal("HUP");
      Files.writeString(config, Files.readString(config).replace("acme.test", "acme2.test"));
      wakeport.awaitStderr("reload by the file watcher", EXIT, l -> l.contains("config reloaded"));
      assertTrue(wakeport.process.isAlive(), wakeport.printed());
      assertEquals(1, wakeport.stderr().stream().filter(l -> l.contains("config reloaded")).count(), wakeport.printed());
    }
  }

  @Test
  void startedWithoutNohupWakeportSaysNothingAboutHangup() throws Exception {
    try (Child wakeport = Child.wakeport("run", "--config", config(TestBed.freePort()).toString())) {
      wakeport.awaitStderr("started", EXIT, l -> l.contains("started in"));
      assertTrue(wakeport.stderr().stream().noneMatch(l -> l.contains("HUP")), wakeport.printed());
    }
  }

  private Path config(int port) throws Exception {
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        admin: off
        state-dir: var
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: [app]
        """.formatted(port, TestBed.freePort()));
    return config;
  }

  private record Cli(int code, String out, String err) {}

  /** The real command line in this JVM, stdout and stderr captured. */
  private static Cli cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Main()).execute(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
