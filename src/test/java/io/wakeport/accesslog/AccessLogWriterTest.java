package io.wakeport.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.wakeport.accesslog.AccessLogSettings.Format;
import io.wakeport.rotation.Rotation;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer thread with real files: flushing, closing, rotation, many callers, and what a full queue does. */
class AccessLogWriterTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  private static AccessEntry entry(int n) {
    return new AccessEntry(1_700_000_000_000L + n, "10.0.0.1", "GET", "/page/" + n, "HTTP/1.1", 200, 512,
        null, "test", "acme.example", "acme", "", 1500, -1, Integer.toString(n));
  }

  private AccessLogSettings settings(Format format, long maxBytes, int keep) {
    return new AccessLogSettings(format, dir.resolve("logs/access.log"), maxBytes, keep);
  }

  private static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  @Test
  void offLogsNothingAndIsTheSameInstance() throws Exception {
    assertSame(AccessLog.off(), AccessLog.open(AccessLogSettings.disabled()));
    AccessLog.off().record(entry(1));
    AccessLog.off().close();
  }

  @Test
  void openCreatesTheDirectoryAndTheFileAtOnce() throws Exception {
    try (AccessLog log = AccessLog.open(settings(Format.COMBINED, 1 << 20, 2))) {
      assertTrue(Files.isRegularFile(dir.resolve("logs/access.log")), "a bad path fails at start-up, not per request");
    }
  }

  @Test
  void aRecordedLineReachesTheFileWithoutClose() throws Exception {
    Path file = dir.resolve("logs/access.log");
    try (AccessLog log = AccessLog.open(settings(Format.JSON, 1 << 20, 2))) {
      log.record(entry(1));
      TestBed.await("the line flushed once the queue ran empty", WAIT, () -> {
        try {
          return lines(file).size() == 1;
        } catch (IOException e) {
          return false;
        }
      });
      assertEquals("1", new JsonObject(lines(file).get(0)).getString("request_id"));
    }
  }

  @Test
  void closeWritesAndFlushesEverythingRecordedBefore() throws Exception {
    AccessLog log = AccessLog.open(settings(Format.COMBINED, 1 << 30, 2));
    for (int i = 0; i < 5000; i++) {
      log.record(entry(i));
    }
    log.close();
    List<String> lines = lines(dir.resolve("logs/access.log"));
    assertEquals(5000, lines.size());
    assertTrue(lines.get(4999).contains("\"GET /page/4999 HTTP/1.1\""), lines.get(4999));
    log.record(entry(5000)); // ignored after close, and no error
    log.close();
    assertEquals(5000, lines(dir.resolve("logs/access.log")).size());
  }

  @Test
  void appendsToAnExistingLog() throws Exception {
    Path file = dir.resolve("logs/access.log");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "earlier line\n");
    try (AccessLog log = AccessLog.open(settings(Format.COMBINED, 1 << 20, 2))) {
      log.record(entry(1));
    }
    List<String> lines = lines(file);
    assertEquals(2, lines.size());
    assertEquals("earlier line", lines.get(0));
  }

  @Test
  void recordsFromManyThreadsAllLand() throws Exception {
    int threads = 8;
    int each = 2000;
    Path file = dir.resolve("logs/access.log");
    AccessLogWriter log = AccessLogWriter.open(settings(Format.JSON, 1 << 30, 2), ZoneOffset.UTC, threads * each);
    List<Thread> callers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int first = t * each;
      Thread caller = new Thread(() -> {
        for (int i = first; i < first + each; i++) {
          log.record(entry(i));
        }
      });
      caller.start();
      callers.add(caller);
    }
    for (Thread t : callers) {
      t.join();
    }
    log.close();
    assertEquals(0, log.dropped());
    TreeSet<Integer> ids = new TreeSet<>();
    for (String line : lines(file)) {
      ids.add(Integer.parseInt(new JsonObject(line).getString("request_id")));
    }
    assertEquals(threads * each, lines(file).size());
    assertEquals(threads * each, ids.size(), "each entry exactly once");
    assertEquals(threads * each - 1, ids.last());
  }

  @Test
  void rotationKeepsTheNewestLinesInKeepFilesNoneOverTheLimit() throws Exception {
    Path file = dir.resolve("logs/access.log");
    long max = 2048;
    int keep = 3;
    try (AccessLog log = AccessLog.open(settings(Format.COMBINED, max, keep))) {
      for (int i = 0; i < 300; i++) {
        log.record(entry(i));
      }
    }
    assertFalse(Files.exists(Rotation.numbered(file, keep + 1)), "at most " + keep + " rotated files");
    List<String> kept = new ArrayList<>();
    for (int n = keep; n >= 1; n--) {
      Path rotated = Rotation.numbered(file, n);
      assertTrue(Files.size(rotated) <= max && Files.size(rotated) > max / 2, rotated + ": " + Files.size(rotated));
      kept.addAll(lines(rotated));
    }
    assertTrue(Files.size(file) <= max);
    kept.addAll(lines(file));
    // Oldest to newest across .3, .2, .1 and the live file: consecutive, ending with the last entry.
    int last = 299;
    for (int i = 0; i < kept.size(); i++) {
      int expected = last - kept.size() + 1 + i;
      assertTrue(kept.get(i).contains("/page/" + expected + " "), "line " + i + ": " + kept.get(i));
    }
  }

  @Test
  void aRotationThatFailsKeepsAppendingRatherThanLosingLines() throws Exception {
    Path file = dir.resolve("logs/access.log");
    Files.createDirectories(Rotation.numbered(file, 1).resolve("in-the-way")); // .1 cannot be replaced
    try (LogCapture warnings = new LogCapture(AccessLogWriter.class)) {
      try (AccessLog log = AccessLog.open(settings(Format.COMBINED, 1024, 1))) {
        for (int i = 0; i < 100; i++) {
          log.record(entry(i));
        }
      }
      assertEquals(100, lines(file).size());
      assertTrue(warnings.contains("cannot rotate"), warnings.messages().toString());
    }
  }

  @Test
  void aFullQueueDropsCountsAndWarnsWithoutBlocking() throws Exception {
    Path file = dir.resolve("logs/access.log");
    try (LogCapture warnings = new LogCapture(AccessLogWriter.class)) {
      // Not started: nothing drains the queue, as when the disk stalls.
      AccessLogWriter log = new AccessLogWriter(settings(Format.COMBINED, 1 << 20, 2), ZoneOffset.UTC, 10);
      for (int i = 0; i < 15; i++) {
        log.record(entry(i));
      }
      assertEquals(5, log.dropped());
      log.start();
      log.close();
      assertEquals(10, lines(file).size(), "the queued entries are written");
      assertTrue(warnings.contains("dropped 5 entries"), warnings.messages().toString());
    }
  }
}
