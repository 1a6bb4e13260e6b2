package io.wakeport.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.wakeport.config.ConfigLoader;
import io.wakeport.config.TenantConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which tenant a request's Host and path select, built from a real config file. */
class RoutingTableTest {

  @TempDir Path dir;

  private RoutingTable table;

  @BeforeEach
  void buildTable() throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        state-dir: var
        defaults:
          command: [app]
        tenants:
          acme:
            hosts: [acme.example, www.acme.example]
            paths: [/acme]
          shop:
            paths: [/shop]
          globex:
            hosts: [globex.example]
            paths: [/shop/globex]
        """);
    table = new RoutingTable(ConfigLoader.check(file));
  }

  @ParameterizedTest
  @ValueSource(strings = {"acme.example", "ACME.Example", "www.acme.example", "acme.example.", "WWW.ACME.EXAMPLE."})
  void hostMatchIgnoresCaseAndATrailingDot(String host) {
    assertEquals("acme", tenant(host, "/"));
  }

  @Test
  void hostMatchWinsOverPathMatch() {
    assertEquals("acme", tenant("acme.example", "/shop/globex/cart"));
    assertEquals("globex", tenant("globex.example", "/acme"));
  }

  @Test
  void anUnknownOrMissingHostFallsBackToThePath() {
    assertEquals("acme", tenant("unknown.example", "/acme/x"));
    assertEquals("acme", tenant(null, "/acme/x"));
    assertEquals("acme", tenant("acme.example.org", "/acme"), "a host is matched whole, not by prefix");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/acme", "/acme/", "/acme/x", "/acme/x/y/z", "/acme;jsessionid=1"})
  void aPathTokenMatchesAtASegmentBoundary(String path) {
    assertEquals("acme", tenant(null, path));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/acmex", "/acm", "/ACME", "/x/acme", "/", ""})
  void aPathTokenDoesNotMatchInsideASegment(String path) {
    assertNull(table.route(null, path));
  }

  @Test
  void theLongestPathTokenWins() {
    assertEquals("globex", tenant(null, "/shop/globex"));
    assertEquals("globex", tenant(null, "/shop/globex/cart/1"));
    assertEquals("shop", tenant(null, "/shop/globexx"));
    assertEquals("shop", tenant(null, "/shop/other/globex"));
    assertEquals("shop", tenant(null, "/shop"));
  }

  @Test
  void noMatchReturnsNull() {
    assertNull(table.route("nobody.example", "/nothing/here"));
    assertNull(table.route(null, null));
  }

  private String tenant(String host, String path) {
    TenantConfig t = table.route(host, path);
    return t == null ? null : t.name();
  }
}
