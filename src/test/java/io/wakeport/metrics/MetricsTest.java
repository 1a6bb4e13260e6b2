package io.wakeport.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a scrape of a real wakeport shows after real requests, starts and crashes. */
class MetricsTest {

  @TempDir Path dir;

  private static final String TWO_TENANTS = TestBed.acmeTenant("") + """
        broken:
          hosts: [broken.test]
          command: [/nonexistent/bin/image]
      """;

  @Test
  void requestsStartsAndGaugesAreInTheScrape() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      Metrics metrics = bed.wakeport.metrics();
      assertTrue(metrics.enabled());
      assertEquals(200, bed.get("acme.test", "/").statusCode()); // the cold start
      assertEquals(200, bed.get("acme.test", "/x").statusCode());
      assertEquals(200, bed.get("acme.test", "/y").statusCode());
      assertEquals(404, bed.get("nobody.test", "/").statusCode());
      assertEquals(503, bed.get("broken.test", "/").statusCode());
      TestBed.await("five answers counted", Duration.ofSeconds(10),
          () -> sum(metrics.scrape(), "wakeport_requests_total") >= 5);
      String text = metrics.scrape();
      assertEquals(3.0, value(text, "wakeport_requests_total", "tenant", "acme", "class", "2xx"), text);
      assertEquals(1.0, value(text, "wakeport_requests_total", "tenant", "-", "class", "4xx"), text);
      assertEquals(1.0, value(text, "wakeport_requests_total", "tenant", "broken", "class", "5xx"), text);
      assertNull(value(text, "wakeport_requests_total", "tenant", "acme", "class", "5xx"),
          "no series for a class a tenant never answered");
      assertEquals(3.0, value(text, "wakeport_request_duration_seconds_count", "class", "2xx"), text);
      assertEquals(3.0, value(text, "wakeport_request_duration_seconds_bucket", "class", "2xx", "le", "+Inf"), text);
      assertEquals(1.0, value(text, "wakeport_cold_start_seconds_count"), text);
      assertTrue(value(text, "wakeport_cold_start_seconds_sum") > 0, text);
      assertEquals(1.0, value(text, "wakeport_spawns_total", "tenant", "acme"), text);
      assertEquals(1.0, value(text, "wakeport_start_failures_total", "tenant", "broken"), text);
      assertEquals(2.0, value(text, "wakeport_start_wait_seconds_count", "outcome", "ready")
          + value(text, "wakeport_start_wait_seconds_count", "outcome", "failed"), text);
      assertEquals(1.0, value(text, "wakeport_instances_running"), text);
      assertEquals(1.0, value(text, "wakeport_instances", "state", "ready"), text);
      assertEquals(0.0, value(text, "wakeport_start_waiting"), text);
      assertTrue(value(text, "wakeport_front_connections") >= 1, "the client's keep-alive connection: " + text);
      assertEquals(0.0, sum(text, "wakeport_crashes_total"), text);
      // The JVM's and the process's own.
      assertTrue(sum(text, "jvm_memory_used_bytes") > 0, text);
      assertTrue(text.contains("process_cpu_usage"), text);
      assertTrue(text.contains("process_files_open_files"), text);
      assertTrue(text.contains("jvm_threads_live_threads"), text);
    }
  }

  @Test
  void aCrashIsCounted() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      assertEquals(200, bed.get("acme.test", "/exit").statusCode());
      TestBed.await("the crash counted", Duration.ofSeconds(20),
          () -> value(bed.wakeport.metrics().scrape(), "wakeport_crashes_total", "tenant", "acme") != null);
      String text = bed.wakeport.metrics().scrape();
      assertEquals(1.0, value(text, "wakeport_crashes_total", "tenant", "acme"), text);
      assertEquals(0.0, value(text, "wakeport_instances_running"), text);
      assertEquals(200, bed.get("acme.test", "/").statusCode()); // started again
      TestBed.await("the second spawn counted", Duration.ofSeconds(10),
          () -> value(bed.wakeport.metrics().scrape(), "wakeport_spawns_total", "tenant", "acme") == 2.0);
      assertEquals(2.0, value(bed.wakeport.metrics().scrape(), "wakeport_cold_start_seconds_count"));
    }
  }

  @Test
  void templateTenantsCountUnderTheirTemplate() throws Exception {
    String config = """
        tenants:
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 10
            command: %s
        """.formatted(TestBed.demoCommand());
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, bed.get("one.apps.test", "/").statusCode());
      assertEquals(200, bed.get("two.apps.test", "/").statusCode());
      TestBed.await("two answers counted", Duration.ofSeconds(10),
          () -> sum(bed.wakeport.metrics().scrape(), "wakeport_requests_total") >= 2);
      String text = bed.wakeport.metrics().scrape();
      assertEquals(2.0, value(text, "wakeport_requests_total", "tenant", "apps", "class", "2xx"), text);
      assertEquals(2.0, value(text, "wakeport_spawns_total", "tenant", "apps"), text);
      assertFalse(text.contains("tenant=\"one\""), text);
    }
  }

  @Test
  void metricsOffRecordsNothing() throws Exception {
    try (TestBed bed = TestBed.start(dir, "metrics: false\n" + TWO_TENANTS)) {
      Metrics metrics = bed.wakeport.metrics();
      assertFalse(metrics.enabled());
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      assertEquals(404, bed.get("nobody.test", "/").statusCode());
      assertEquals(503, bed.get("broken.test", "/").statusCode());
      Thread.sleep(200);
      String text = metrics.scrape();
      assertFalse(text.contains("wakeport_"), text);
      assertFalse(text.contains("jvm_"), text);
      assertTrue(text.startsWith("#"), text);
    }
  }

  @Test
  void theSwitchIsTrueOrFalse() throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, "metrics: sometimes\n" + TWO_TENANTS);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertTrue(e.problems().toString().contains("wakeport.yaml:1"), e.problems().toString());
    assertTrue(e.problems().toString().contains("metrics"), e.problems().toString());
    Files.writeString(file, "metrics: off\n" + TWO_TENANTS);
    assertFalse(ConfigLoader.load(file).metrics());
    Files.writeString(file, TWO_TENANTS);
    assertTrue(ConfigLoader.load(file).metrics(), "on by default");
  }

  /** The value of the sample {@code name} whose labels include {@code labels} (name, value pairs), or null. */
  static Double value(String text, String name, String... labels) {
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      Map<String, String> have = labels(line);
      boolean match = true;
      for (int i = 0; i < labels.length; i += 2) {
        match &= labels[i + 1].equals(have.get(labels[i]));
      }
      if (match) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return null;
  }

  /** The sum of every sample of {@code name}. */
  static double sum(String text, String name) {
    double total = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  private static Map<String, String> labels(String line) {
    Map<String, String> labels = new HashMap<>();
    int open = line.indexOf('{');
    if (open < 0) {
      return labels;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-zA-Z_]+)=\"([^\"]*)\"")
        .matcher(line.substring(open, line.lastIndexOf('}')));
    while (m.find()) {
      labels.put(m.group(1), m.group(2));
    }
    return labels;
  }
}
