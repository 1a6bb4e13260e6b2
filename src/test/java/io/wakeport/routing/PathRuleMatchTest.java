package io.wakeport.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.config.ConfigLoader;
import io.wakeport.config.TenantConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tenant's rules as the routing table resolves them from a real config file: which rule a path
 * selects, and which paths are refused before any is looked at. The same through a running
 * wakeport is proxying.PathRulesTest; here every case is cheap enough to list.
 */
class PathRuleMatchTest {

  @TempDir Path dir;

  private PathRules rules() throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        state-dir: var
        defaults:
          command: [app]
        tenants:
          shop:
            hosts: [shop.test]
            routes: [a, b, c]
            rules:
              - {path: /static/, tenant: media, to: /media/}
              - {path: /static/fonts/, routes: [c]}
              - {path: /api, routes: [b, c]}
              - {path: /api/v2, tenant: media}
          media:
            hosts: [media.test]
        """);
    RoutingTable table = new RoutingTable(ConfigLoader.check(file));
    assertNull(table.rules(table.route("media.test", "/")), "a tenant without rules has none to look at");
    return table.rules(table.route("shop.test", "/"));
  }

  private static String served(PathRules rules, String path) {
    PathRules.Rule rule = rules.match(path);
    return rule == null ? null : rule.prefix() + " " + rule.tenant().name();
  }

  @Test
  void theLongestPrefixWinsAndOneWithoutATrailingSlashMatchesWholeSegments() throws Exception {
    PathRules rules = rules();
    assertEquals("/static/ media", served(rules, "/static/a.css"));
    assertEquals("/static/ media", served(rules, "/static/"));
    assertEquals("/static/fonts/ shop", served(rules, "/static/fonts/x.woff"));
    assertEquals("/static/ media", served(rules, "/static/fonts"));
    assertEquals("/api shop", served(rules, "/api"));
    assertEquals("/api shop", served(rules, "/api/"));
    assertEquals("/api shop", served(rules, "/api;v=1"));
    assertEquals("/api/v2 media", served(rules, "/api/v2/x"));
    assertEquals("/api shop", served(rules, "/api/v20"));
    for (String none : new String[] {"/", "/static", "/staticfoo", "/STATIC/a.css", "/apix", "/x/static/a.css", "*"}) {
      assertNull(rules.match(none), none);
    }
    PathRules.Rule media = rules.match("/static/a.css");
    assertNull(media.balancer(), "another tenant balances as it does for itself");
    assertEquals("/media/a.css?v=1", media.mapping().toBackend("/static/a.css?v=1"));
    PathRules.Rule api = rules.match("/api/x");
    assertNull(api.mapping());
    TenantConfig shop = api.tenant();
    assertFalse(api.balancer().includes(shop.instance("a")));
    assertTrue(api.balancer().includes(shop.instance("b")) && api.balancer().includes(shop.instance("c")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/static/../admin", "/static/./a.css", "/..", "/.", "/static/..", "/static/..;/admin",
      "/static/.;x/a", "/static/%2e%2e/admin", "/static/%2E./admin", "/static/.%2e", "/static/..%2Fadmin",
      "/static%2f..%2fadmin", "/static\\..\\admin", "/static/%5C..%5Cadmin", "/%73tatic/a.css", "/st%61tic/",
      "/static/a%2Db", "/static/%7Euser"})
  void pathsABackendCouldReadAsAnotherAreAmbiguous(String path) {
    assertTrue(PathRules.ambiguous(path), path);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/static/a.css", "/static/.well-known/x", "/static/x..y", "/static/...", "/static/a.",
      "/static/caf%C3%A9", "/static/a%20b", "/static/%3F", "/static/100%", "/static/%zz", "/api;v=1", "/static//a", "*"})
  void ordinaryPathsAreNot(String path) {
    assertFalse(PathRules.ambiguous(path), path);
  }
}
