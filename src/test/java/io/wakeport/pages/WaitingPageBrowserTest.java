package io.wakeport.pages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.supervision.Instance;
import io.wakeport.testing.Browsers;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The waiting page in a real headless browser (Debian's chromium and chromium-driver): a page load
 * during a 3 s cold start shows the waiting page with the tenant's name, which turns into the
 * app's page by itself, with no user action. Screenshots of the built-in pages go to
 * {@code target/page-screenshots/} (those in docs/pages/ come from here).
 */
class WaitingPageBrowserTest {

  private static final Path SHOTS = Path.of("target", "page-screenshots");

  @TempDir Path dir;
  @TempDir Path profile;

  private WebDriver driver;

  @BeforeAll
  static void browser() {
    Browsers.assumeInstalled("the waiting page's browser test needs");
  }

  private WebDriver start() {
    driver = Browsers.chromium(profile, 1000, 700);
    return driver;
  }

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  private void screenshot(String name) throws Exception {
    Files.createDirectories(SHOTS);
    Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
  }

  private String heading() {
    try {
      return driver.findElement(By.tagName("h1")).getText();
    } catch (org.openqa.selenium.WebDriverException e) {
      return ""; // between two loads
    }
  }

  @Test
  void theWaitingPageTurnsIntoTheAppOnceItHasStartedWithoutAnyUserAction() throws Exception {
    String config = """
        tenants:
          acme:
            paths: [/acme]
            command: %s
          broken:
            paths: [/broken]
            waiting-page: off    # its 503 at once, however slowly its JVM starts
            command: %s
        """.formatted(TestBed.demoCommand("--boot-delay", "3000"), TestBed.demoCommand("--exit-before-ready", "3"));
    try (TestBed bed = TestBed.start(dir, config)) {
      start();
      String url = "http://127.0.0.1:" + bed.port + "/acme/";
      WebDriverWait wait = Browsers.waiting(driver);

      driver.get(url); // held for waiting-page.after (1 s), then the waiting page
      assertEquals("Starting acme", driver.getTitle());
      assertEquals("acme is starting", heading());
      screenshot("waiting-first-start");

      wait.until(d -> heading().equals("wakeport demo: acme"));
      assertEquals(url, driver.getCurrentUrl(), "the page reloaded itself in place");
      assertTrue(driver.getPageSource().contains("<dt>tenant</dt><dd>acme</dd>"), "the app's own page");
      assertEquals(1, bed.spawnCount("acme"));

      // A second cold start knows how long the first took: a progress bar.
      Instance acme = bed.wakeport.supervisor().instance("acme", "");
      bed.wakeport.supervisor().stop(acme, "test").toCompletionStage().toCompletableFuture().get();
      driver.get(url);
      assertEquals("acme is starting", heading());
      assertTrue(driver.findElement(By.cssSelector(".bar.known")).isDisplayed(), "a determinate bar");
      screenshot("waiting");
      driver.manage().window().setSize(new Dimension(390, 760));
      screenshot("waiting-phone");
      wait.until(d -> heading().equals("wakeport demo: acme"));
      driver.manage().window().setSize(new Dimension(1000, 700));

      driver.get("http://127.0.0.1:" + bed.port + "/broken/");
      assertEquals("503 Service Unavailable", driver.getTitle());
      assertTrue(driver.findElement(By.tagName("body")).getText().contains("could not be started"));
      screenshot("unavailable");
    }
  }
}
