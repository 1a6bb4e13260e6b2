package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pages:} and {@code waiting-page:}: what they accept, and every problem with file, line and key. */
class PagesConfigTest {

  @TempDir Path dir;

  private Path write(String body) throws Exception {
    return TestBed.writeConfig(dir, body);
  }

  private Path page(String name, String html) throws Exception {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, html);
    return file;
  }

  private static List<ConfigProblem> problems(Path file) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
  }

  private static ConfigProblem only(List<ConfigProblem> problems) {
    assertEquals(1, problems.size(), () -> "expected one problem, got:\n" + problems);
    return problems.get(0);
  }

  @Test
  void theWaitingPageIsOnAfterOneSecondUnlessSaidOtherwiseAndDefaultsPassItOn() throws Exception {
    WakeportConfig config = ConfigLoader.check(write("""
        defaults:
          waiting-page: {after: 2s}
        tenants:
          plain:
            paths: [/plain]
            command: [app]
          quick:
            paths: [/quick]
            waiting-page: {after: 300ms, refresh: 3s}
            command: [app]
          none:
            paths: [/none]
            waiting-page: off
            command: [app]
        """));
    assertEquals(new WaitingPage(true, Duration.ofSeconds(2), Duration.ofSeconds(1)),
        config.tenants().get("plain").pages().waiting(), "inherited from defaults, refresh by default");
    assertEquals(new WaitingPage(true, Duration.ofMillis(300), Duration.ofSeconds(3)),
        config.tenants().get("quick").pages().waiting());
    assertFalse(config.tenants().get("none").pages().waiting().enabled());
    WakeportConfig bare = ConfigLoader.check(write("tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n"));
    assertEquals(WaitingPage.DEFAULT, bare.tenants().get("acme").pages().waiting());
    assertEquals(Duration.ofSeconds(1), WaitingPage.DEFAULT.after());
  }

  @Test
  void pageFilesAreReadAtLoadRelativeToTheConfigFileAndReadAgainOnTheNextLoad() throws Exception {
    page("pages/404.html", "<h1>${status} ${title}</h1><p>${request-id}</p>");
    page("pages/acme-503.html", "<p>${tenant} ${message} ${retry-after}</p>");
    page("pages/wait.html", "<p>${tenant} ${waited} ${progress} ${refresh}</p>");
    Path file = write("""
        pages:
          404: pages/404.html
          503: pages/404.html
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            pages: {503: pages/acme-503.html, waiting: pages/wait.html}
        """);
    WakeportConfig config = ConfigLoader.check(file);
    assertEquals(dir.resolve("pages/404.html"), config.pages().forStatus(404).file());
    assertTrue(config.pages().forStatus(503).html().contains("${status}"));
    assertNull(config.pages().waiting());
    PageTemplates acme = config.tenants().get("acme").pages().own();
    assertTrue(acme.forStatus(503).html().contains("${retry-after}"));
    assertTrue(acme.waiting().html().contains("${waited}"));
    assertNull(acme.forStatus(404), "a tenant's own pages only: the root's are looked up beside them");

    page("pages/404.html", "<h1>changed</h1>");
    assertEquals("<h1>changed</h1>", ConfigLoader.check(file).pages().forStatus(404).html(), "a reload reads it again");
  }

  @Test
  void aMissingPageFileIsAProblemAtItsLine() throws Exception {
    ConfigProblem p = only(problems(write("""
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            pages:
              503: pages/missing.html
        """)));
    assertEquals("tenants.acme.pages.503", p.key());
    assertEquals(8, p.line());
    assertEquals(dir.resolve("wakeport.yaml"), p.file());
    assertTrue(p.message().contains("no such file " + dir.resolve("pages/missing.html")), p.message());
  }

  @Test
  void anUnknownPlaceholderNamesThePageFileAndLine() throws Exception {
    page("pages/503.html", "<html>\n<p>${tenant}</p>\n<p>${waited}</p>\n");
    page("pages/wait.html", "<p>${tenant} ${bogus}</p>\n");
    List<ConfigProblem> problems = problems(write("""
        pages:
          503: pages/503.html
          waiting: pages/wait.html
        tenants:
          acme:
            paths: [/acme]
            command: [app]
        """));
    assertEquals(2, problems.size(), problems::toString);
    ConfigProblem status = problems.get(0);
    assertEquals("pages.503", status.key());
    assertEquals(4, status.line());
    assertTrue(status.message().startsWith("unknown placeholder ${waited} at " + dir.resolve("pages/503.html") + ":3"),
        "${waited} belongs to the waiting page only: " + status.message());
    ConfigProblem waiting = problems.get(1);
    assertEquals("pages.waiting", waiting.key());
    assertTrue(waiting.message().contains("${bogus}") && waiting.message().contains("${progress}"), waiting.message());
  }

  @Test
  void badKeysAndValuesAreProblems() throws Exception {
    page("p.html", "<p>ok</p>");
    Map<String, String> cases = Map.of(
        "pages: {200: p.html}\n", "pages.200",
        "pages: {oops: p.html}\n", "pages.oops",
        "pages: {503: .}\n", "pages.503",
        "defaults: {pages: {503: p.html}}\n", "defaults.pages",
        "defaults: {waiting-page: maybe}\n", "defaults.waiting-page",
        "defaults: {waiting-page: {refresh: 1500ms}}\n", "defaults.waiting-page.refresh",
        "defaults: {waiting-page: {refresh: 0}}\n", "defaults.waiting-page.refresh",
        "defaults: {waiting-page: {after: soon}}\n", "defaults.waiting-page.after",
        "defaults: {waiting-page: {afterr: 1s}}\n", "defaults.waiting-page.afterr");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      ConfigProblem p = only(problems(write(c.getKey() + "tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n")));
      assertEquals(c.getValue(), p.key(), c.getKey());
      assertEquals(3, p.line(), c.getKey());
    }
  }
}
