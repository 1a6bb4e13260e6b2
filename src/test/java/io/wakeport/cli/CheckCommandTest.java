package io.wakeport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code wakeport check --config FILE}, run in-process through the real command line. */
class CheckCommandTest {

  @TempDir Path dir;

  private String out;
  private String err;

  @Test
  void aGoodFileExitsZeroAndSaysOk() throws Exception {
    Path file = dir.resolve("good.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        state-dir: var
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
        """);
    assertEquals(0, check(file.toString()));
    assertTrue(out.contains(file.toAbsolutePath().normalize() + ": ok, 1 tenants"), out);
    assertEquals("", err);
    assertFalse(Files.exists(dir.resolve("var")), "check writes nothing");
  }

  @Test
  void limitsTheMachineCannotEnforceAreAWarningAtTheirLine() throws Exception {
    Path file = dir.resolve("limits.yaml");
    Files.writeString(file, """
        containment: marker
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
            limits: {memory: 256M, cpu: 0.5}
        """);
    assertEquals(0, check(file.toString()), "a warning, not an error: " + err);
    assertTrue(err.contains("warning: " + file.toAbsolutePath().normalize()
        + ":6: tenants.acme.limits: limits cannot be enforced"), err);
  }

  @Test
  void badLimitsAreErrorsAtTheirKey() throws Exception {
    Path file = dir.resolve("badlimits.yaml");
    Files.writeString(file, """
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
            limits: {memory: 1K, cpu: lots, pids: 0, disk: 1G}
        """);
    assertNotEquals(0, check(file.toString()));
    for (String key : new String[] {"tenants.acme.limits.memory: must be a size of at least 4M",
        "tenants.acme.limits.cpu: must be a number of CPUs", "tenants.acme.limits.pids", "disk"}) {
      assertTrue(err.contains(key), key + " in " + err);
    }
  }

  @Test
  void theShippedDemoConfigPassesTheCheck() {
    assertEquals(0, check("conf/wakeport.yaml"));
    assertTrue(out.contains("ok, 3 tenants"), out);
  }

  @Test
  void aBadFileExitsNonZeroAndPrintsFileLineAndKey() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
            start-timeout: soon
        """);
    assertNotEquals(0, check(file.toString()));
    String where = file.toAbsolutePath().normalize() + ":5: tenants.acme.start-timeout: ";
    assertTrue(err.contains(where), err);
    assertFalse(out.contains("ok"), out);
  }

  @Test
  void aMissingFileExitsNonZero() {
    assertNotEquals(0, check(dir.resolve("absent.yaml").toString()));
    assertTrue(err.contains("absent.yaml"), err);
  }

  @Test
  void aDirectoryOrAMissingFileIsOneLineNamingIt() {
    assertNotEquals(0, check(dir.toString()));
    assertEquals(dir + ": is a directory, not a config file\n", err);
    assertNotEquals(0, check(dir.resolve("absent.yaml").toString()));
    assertEquals(dir.resolve("absent.yaml") + ": no such file\n", err);
  }

  @Test
  void aPortInTheKernelsEphemeralRangeIsPrintedAsAWarningAndTheCheckStillPasses() throws Exception {
    io.wakeport.config.KernelPorts kernel = io.wakeport.config.KernelPorts.current();
    org.junit.jupiter.api.Assumptions.assumeTrue(kernel != null && kernel.last() > kernel.first(), "needs Linux's /proc");
    Path file = dir.resolve("ephemeral.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        state-dir: var
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
            port: %d
        """.formatted(kernel.first() + 1));
    assertEquals(0, check(file.toString()), "a warning is not an error");
    assertTrue(out.contains(": ok, 1 tenants"), out);
    assertTrue(err.startsWith("warning: " + file.toAbsolutePath().normalize() + ":7: tenants.acme.port: port "
        + (kernel.first() + 1) + " lies in the kernel's ephemeral port range " + kernel.range()), err);
  }

  @Test
  void aProgramThatIsNotOnPathIsAnErrorAtTheCommandsLine() throws Exception {
    Path file = dir.resolve("typo.yaml");
    Files.writeString(file, """
        tenants:
          acme:
            paths: [/acme]
            command: [pyhton3-typo, app.py]
        """);
    assertEquals(1, check(file.toString()));
    assertTrue(err.startsWith(file.toAbsolutePath().normalize()
        + ":4: tenants.acme.command: program pyhton3-typo is not on PATH ("), err);
    assertFalse(out.contains("ok"), out);
  }

  @Test
  void aScriptThatCannotBeExecutedOrDoesNotExistIsAnError() throws Exception {
    Path script = Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\nexec true\n");
    Path file = dir.resolve("script.yaml");
    Files.writeString(file, """
        tenants:
          plain:
            paths: [/plain]
            command: [./run.sh]
          gone:
            paths: [/gone]
            command: [./missing.sh, "${port}"]
        """);
    assertEquals(1, check(file.toString()));
    assertTrue(err.contains(":4: tenants.plain.command: program " + script + " is not executable"), err);
    assertTrue(err.contains(":7: tenants.gone.command: program " + dir.resolve("missing.sh") + " does not exist"), err);

    script.toFile().setExecutable(true);
    Files.writeString(file, """
        tenants:
          plain:
            paths: [/plain]
            command: [./run.sh]
        """);
    assertEquals(0, check(file.toString()), err);
  }

  @Test
  void aMissingWorkdirIsAnErrorAtItsLineEvenWhenInherited() throws Exception {
    Path file = dir.resolve("workdir.yaml");
    Files.writeString(file, """
        defaults:
          workdir: /srv/nowhere-${tenant}
        tenants:
          acme:
            paths: [/acme]
            command: [sh, -c, "exec app"]
        """);
    assertEquals(1, check(file.toString()));
    assertTrue(err.contains(":2: defaults.workdir: directory /srv/nowhere-acme does not exist"), err);
  }

  @Test
  void aTemplatesLabelDependentPartsAreLeftForTheRequestToName() throws Exception {
    Files.createDirectories(dir.resolve("customers"));
    Path file = dir.resolve("template.yaml");
    Files.writeString(file, """
        tenants:
          apps:
            hosts: ["*.apps.example.com"]
            exists: customers/${tenant}
            workdir: customers/${tenant}
            command: [sh, -c, "exec app"]
        """);
    assertEquals(0, check(file.toString()), err);
    Files.writeString(file, """
        tenants:
          apps:
            hosts: ["*.apps.example.com"]
            max-tenants: 5
            workdir: customers
            command: [no-such-runner, "${tenant}"]
        """);
    assertEquals(1, check(file.toString()));
    assertTrue(err.contains(":6: tenants.apps.command: program no-such-runner is not on PATH"), err);
  }

  /** Runs the real CLI with stdout and stderr captured. */
  private int check(String file) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      return new CommandLine(new Main()).execute("check", "--config", file);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
      out = outBytes.toString(StandardCharsets.UTF_8);
      err = errBytes.toString(StandardCharsets.UTF_8);
    }
  }
}
