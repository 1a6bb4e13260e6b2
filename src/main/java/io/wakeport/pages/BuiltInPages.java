package io.wakeport.pages;

import static io.wakeport.config.PageTemplate.escapeHtml;

import java.util.Locale;

/**
 * wakeport's own HTML pages: one small self-contained document each (inline CSS, no scripts, no
 * external resources), readable on a phone and in dark mode, naming the request id a user can
 * quote to an operator.
 */
final class BuiltInPages {

  private static final String STYLE = """
      :root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--accent:#0969da}
      @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#151b23;--line:#3d444d;--accent:#4493f8}}
      *{box-sizing:border-box}
      body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:1.25rem;\
      background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
      main{width:100%;max-width:34rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:2rem}
      .status{margin:0;color:var(--muted);font-size:.8125rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase}
      h1{margin:.25rem 0 1rem;font-size:1.5rem;line-height:1.25;overflow-wrap:anywhere}
      p{margin:0 0 .75rem}
      .muted{color:var(--muted)}
      .bar{height:.5rem;border-radius:999px;background:var(--line);overflow:hidden;margin:1.25rem 0}
      .bar span{display:block;height:100%;border-radius:inherit;background:var(--accent)}
      .bar.known span{width:var(--done);animation:fill var(--left) linear forwards}
      .bar.unknown span{width:30%;animation:slide 1.6s ease-in-out infinite}
      @keyframes fill{to{width:95%}}
      @keyframes slide{from{margin-left:-30%}to{margin-left:100%}}
      @media (prefers-reduced-motion:reduce){.bar span{animation:none}}
      footer{margin-top:1.5rem;padding-top:.75rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8125rem;\
      overflow-wrap:anywhere}
      footer p{margin:0}
      """;

  private BuiltInPages() {}

  /** An error page: its status, what happened in a sentence, the request id. */
  static String status(PageContent page) {
    String heading = page.status() + " " + page.title();
    return head(heading, null)
        + "<p class=\"status\">" + escapeHtml(heading) + "</p>\n"
        + "<h1>" + escapeHtml(headline(page)) + "</h1>\n"
        + "<p>" + escapeHtml(page.message()) + "</p>\n"
        + foot(page);
  }

  /**
   * The waiting page: whose start, for how long, and how far against the previous start (an
   * indeterminate bar without one). It reloads itself; once the backend is ready the reload is
   * the app's own page. The bar moves on by CSS alone between reloads.
   */
  static String waiting(PageContent page) {
    PageContent.StartProgress progress = page.waiting();
    String tenant = page.tenant() == null ? "This site" : page.tenant();
    long waited = progress.waitedMillis() / 1000;
    String took = progress.expectedMillis() > 0
        ? " Its last start took " + Plurals.seconds(Math.max(1, Math.round(progress.expectedMillis() / 1000.0))) + "."
        : "";
    String bar;
    int percent = progress.percent();
    if (percent >= 0) {
      double left = Math.max(0.1, (progress.expectedMillis() - progress.waitedMillis()) / 1000.0);
      bar = "<div class=\"bar known\" role=\"progressbar\" aria-valuemin=\"0\" aria-valuemax=\"100\" aria-valuenow=\""
          + percent + "\" style=\"--done:" + percent + "%;--left:" + String.format(Locale.ROOT, "%.1f", left)
          + "s\"><span></span></div>\n";
    } else {
      bar = "<div class=\"bar unknown\" role=\"progressbar\" aria-label=\"starting\"><span></span></div>\n";
    }
    return head("Starting " + tenant, progress.refreshSeconds())
        + "<p class=\"status\">Starting</p>\n"
        + "<h1><span class=\"tenant\">" + escapeHtml(tenant) + "</span> is starting</h1>\n"
        + "<p>It was not running and is being started now. This page reloads by itself and shows the site as soon as"
        + " it is ready.</p>\n"
        + bar
        + "<p class=\"muted waited\">Starting for " + Plurals.seconds(waited) + "." + escapeHtml(took) + "</p>\n"
        + foot(page);
  }

  /** A heading a visitor understands; the status line above it is for whoever they report it to. */
  private static String headline(PageContent page) {
    return switch (page.status()) {
      case 400 -> "This address cannot be served";
      case 404 -> "Nothing here";
      case 408 -> "The request took too long";
      case 413 -> "The request is too large";
      case 502, 504 -> "The site did not answer properly";
      case 503 -> "The site is not available right now";
      default -> page.title();
    };
  }

  private static String head(String title, Integer refreshSeconds) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        + "<meta name=\"robots\" content=\"noindex\">\n"
        + (refreshSeconds == null ? "" : "<meta http-equiv=\"refresh\" content=\"" + refreshSeconds + "\">\n")
        + "<title>" + escapeHtml(title) + "</title>\n<style>\n" + STYLE + "</style></head>\n<body><main>\n";
  }

  private static String foot(PageContent page) {
    return "<footer><p>Request id: " + escapeHtml(page.requestId()) + "</p></footer>\n</main></body></html>\n";
  }
}
