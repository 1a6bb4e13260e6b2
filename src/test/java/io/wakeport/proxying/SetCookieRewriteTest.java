package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.wakeport.config.ResponseRewriting;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Set-Cookie attributes are found as a browser finds them, and nothing else in the field moves. */
class SetCookieRewriteTest {

  private static final PathMapping LEGACY = new PathMapping("/legacy", "");

  @Test
  void onlyAttributesAreRewrittenNeverTheCookiesOwnNameOrValue() {
    ResponseRewriting rules = ResponseRewriting.DEFAULT;
    // "Domain=…" and "Path=…" inside the value are the value's: only what follows the first ';' is an attribute.
    assertEquals("s=Domain=127.0.0.1,Path=/", SetCookieRewrite.rewrite("s=Domain=127.0.0.1,Path=/", rules, LEGACY));
    assertEquals("s=Path=/; Path=/legacy/x", SetCookieRewrite.rewrite("s=Path=/; Path=/x", rules, LEGACY));
    String untouched = "s=1; Domain=example.test; Path=; Max-Age=60";
    assertSame(untouched, SetCookieRewrite.rewrite(untouched, rules, LEGACY), "an empty Path means the default path");
  }

  @Test
  void whitespaceCaseAndRepeatsAreReadAsRfc6265Says() {
    ResponseRewriting rules = ResponseRewriting.DEFAULT;
    assertEquals("s=1;\tHttpOnly", SetCookieRewrite.rewrite("s=1;\tdOmAiN = LOCALHOST ;\tHttpOnly", rules, null));
    assertEquals("s=1", SetCookieRewrite.rewrite("s=1; Domain=.localhost", rules, null), "a leading dot is ignored");
    assertEquals("s=1; Secure", SetCookieRewrite.rewrite("s=1; Domain=[::1]; Domain=127.0.0.1; Secure", rules, null));
    assertEquals("s=1; path =/legacy/a; PATH= /legacy/b",
        SetCookieRewrite.rewrite("s=1; path =/a; PATH= /b", rules, LEGACY), "each Path, its spacing kept");
  }

  @Test
  void theLongestCookiePathWinsAtSegmentBoundariesAndADomainMapsBeforeTheOwnAddressRule() {
    ResponseRewriting rules = new ResponseRewriting(true, List.of(), Map.of("localhost", "acme.test"),
        linked("/app/admin", "/staff", "/app/", "/"));
    assertEquals("s=1; Path=/staff/x", SetCookieRewrite.rewrite("s=1; Path=/app/admin/x", rules, LEGACY));
    assertEquals("s=1; Path=/", SetCookieRewrite.rewrite("s=1; Path=/app", rules, LEGACY));
    assertEquals("s=1; Path=/legacy/apple", SetCookieRewrite.rewrite("s=1; Path=/apple", rules, LEGACY),
        "/app is not a prefix of /apple; the strip prefix applies instead");
    assertEquals("s=1; Domain=acme.test", SetCookieRewrite.rewrite("s=1; Domain=LocalHost", rules, null));
  }

  private static Map<String, String> linked(String... pairs) {
    Map<String, String> map = new java.util.LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }
}
