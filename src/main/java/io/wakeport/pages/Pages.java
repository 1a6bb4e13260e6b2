package io.wakeport.pages;

import io.wakeport.config.PageTemplate;
import java.util.HashMap;
import java.util.Map;

/**
 * Renders a {@link PageContent}: through the operator's template when there is one, else as the
 * built-in page ({@link BuiltInPages}); plain text for clients that do not take HTML.
 */
public final class Pages {

  private Pages() {}

  /** Whether a request's Accept header takes HTML: browsers' page loads do, API clients' calls seldom. */
  public static boolean wantsHtml(String accept) {
    return accept != null && accept.contains("text/html");
  }

  public static String html(PageContent page, PageTemplate custom) {
    if (custom == null) {
      return page.waiting() != null ? BuiltInPages.waiting(page) : BuiltInPages.status(page);
    }
    return custom.render(values(page));
  }

  public static String text(PageContent page) {
    return page.status() + " " + page.title() + ": " + page.message() + "\nRequest id: " + page.requestId() + "\n";
  }

  /** The values of the placeholders a template may use (escaped by the template as it substitutes them). */
  static Map<String, String> values(PageContent page) {
    Map<String, String> values = new HashMap<>();
    values.put("status", Integer.toString(page.status()));
    values.put("title", page.title());
    values.put("message", page.message());
    values.put("tenant", page.tenant() == null ? "" : page.tenant());
    values.put("request-id", page.requestId());
    values.put("retry-after", page.retryAfterSeconds() < 0 ? "" : Integer.toString(page.retryAfterSeconds()));
    PageContent.StartProgress progress = page.waiting();
    if (progress != null) {
      values.put("waited", Plurals.seconds(progress.waitedMillis() / 1000));
      values.put("progress", progress.percent() < 0 ? "" : Integer.toString(progress.percent()));
      values.put("refresh", Integer.toString(progress.refreshSeconds()));
    }
    return values;
  }
}
