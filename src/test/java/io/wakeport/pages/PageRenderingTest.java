package io.wakeport.pages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.config.PageTemplate;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How pages are rendered: plurals, escaping of every value, and what the built-in pages carry (and never carry). */
class PageRenderingTest {

  private static final String SCRIPT = "<script>alert('x')</script>";

  @Test
  void secondsAreCountedInWords() {
    assertEquals("0 seconds", Plurals.seconds(0));
    assertEquals("1 second", Plurals.seconds(1));
    assertEquals("2 seconds", Plurals.seconds(2));
    assertEquals("61 seconds", Plurals.seconds(61));
  }

  @Test
  void everyPlaceholderValueOfAnOperatorsPageIsEscaped() {
    PageTemplate template = new PageTemplate(Path.of("p.html"),
        "<title>${title}</title><p data-id=\"${request-id}\">${tenant}: ${message} ${status} ${retry-after}</p>"
            + "<a href='${waited}'>${progress}</a>${refresh} ${tenant}");
    PageContent content = new PageContent(503, SCRIPT, SCRIPT, SCRIPT, "\"><script>1</script>", 3,
        new PageContent.StartProgress(2500, 5000, 1));
    String html = Pages.html(content, template);
    assertFalse(html.contains("<script"), html);
    assertFalse(html.contains("'x'"), "quotes are escaped too: " + html);
    assertTrue(html.contains("<p data-id=\"&quot;&gt;&lt;script&gt;1&lt;/script&gt;\">"), html);
    assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;: "), html);
    assertTrue(html.contains(" 503 3</p><a href='2 seconds'>50</a>1 "), "each placeholder filled: " + html);
    assertEquals("", new PageTemplate(Path.of("p"), "${waited}${progress}")
        .render(Map.of()), "a value a page does not have is empty");
  }

  @Test
  void theBuiltInPagesEscapeStandAloneAndRenderForPhones() {
    String error = Pages.html(new PageContent(502, "Bad Gateway", "The service for " + SCRIPT + " failed.", SCRIPT,
        "abc123", -1, null), null);
    String waiting = Pages.html(new PageContent(503, "Service Unavailable", "starting", SCRIPT, "abc123", 1,
        new PageContent.StartProgress(1200, -1, 1)), null);
    for (String html : new String[] {error, waiting}) {
      assertFalse(html.contains("<script"), html);
      assertTrue(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
      assertTrue(html.contains("<style>"), "styled inline");
      assertFalse(html.matches("(?s).*(src=|href=|url\\(|@import).*"), "no external resources: " + html);
      assertTrue(html.contains("<p>Request id: abc123</p>"), html);
    }
    assertTrue(error.contains("<title>502 Bad Gateway</title>"), error);
    assertTrue(waiting.contains("Starting for 1 second."), waiting);
    assertTrue(waiting.contains("<meta http-equiv=\"refresh\" content=\"1\">"), waiting);
    String known = Pages.html(new PageContent(503, "Service Unavailable", "starting", "acme", "abc123", 1,
        new PageContent.StartProgress(2000, 4000, 2)), null);
    assertTrue(known.contains("aria-valuenow=\"50\"") && known.contains("--left:2.0s"), known);
    assertTrue(known.contains("Its last start took 4 seconds."), known);
    assertEquals("503 Service Unavailable: The service for acme could not start.\nRequest id: abc123\n",
        Pages.text(new PageContent(503, "Service Unavailable", "The service for acme could not start.", "acme",
            "abc123", 5, null)));
  }
}
