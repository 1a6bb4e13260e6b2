package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** max-running without a setting: finite, from the machine's memory. */
class SupervisorSettingsTest {

  private static final long MIB = 1024 * 1024;

  @TempDir Path dir;

  @Test
  void theDefaultIsMemoryOver64MiBWithinSixteenAnd4096() {
    assertEquals(16, SupervisorSettings.defaultMaxRunning(0));
    assertEquals(16, SupervisorSettings.defaultMaxRunning(-1));
    assertEquals(16, SupervisorSettings.defaultMaxRunning(512 * MIB));
    assertEquals(16, SupervisorSettings.defaultMaxRunning(1024 * MIB));
    assertEquals(32, SupervisorSettings.defaultMaxRunning(2048 * MIB));
    assertEquals(128, SupervisorSettings.defaultMaxRunning(8192 * MIB));
    assertEquals(128, SupervisorSettings.defaultMaxRunning(8192 * MIB + 63 * MIB));
    assertEquals(1024, SupervisorSettings.defaultMaxRunning(64L * 1024 * MIB));
    assertEquals(4096, SupervisorSettings.defaultMaxRunning(256L * 1024 * MIB));
    assertEquals(4096, SupervisorSettings.defaultMaxRunning(4L * 1024 * 1024 * MIB));
    assertEquals(4096, SupervisorSettings.defaultMaxRunning(Long.MAX_VALUE));
  }

  @Test
  void aConfigWithoutMaxRunningGetsTheFiniteDefaultOfThisMachine() throws Exception {
    long total = SupervisorSettings.totalMemoryBytes();
    assertTrue(total > 0, "the JVM reports this machine's memory");
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:0
        state-dir: var
        tenants:
          shop:
            hosts: [shop.test]
            command: [app]
        """);
    SupervisorSettings s = ConfigLoader.check(file).supervisor();
    assertTrue(s.maxRunningDefaulted());
    assertEquals(Math.max(16, Math.min(4096, total / (64 * MIB))), s.maxRunning());
    assertTrue(s.describeMaxRunning().contains("default"), s.describeMaxRunning());

    Files.writeString(file, "max-running: 7\n" + Files.readString(file));
    s = ConfigLoader.check(file).supervisor();
    assertEquals(7, s.maxRunning());
    assertFalse(s.maxRunningDefaulted());
  }
}
