package io.wakeport.pages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.wakeport.supervision.Instance;
import io.wakeport.testing.TestBed;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The waiting page in a real headless browser (Debian's chromium and chromium-driver): a page load
 * during a 3 s cold start shows the waiting page with the tenant's name, which turns into the
 * app's page by itself, with no user action. Screenshots of the built-in pages go to
 * {@code target/page-screenshots/} (those in docs/pages/ come from here).
 */
class WaitingPageBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SHOTS = Path.of("target", "page-screenshots");

  @TempDir Path dir;
  @TempDir Path profile;

  private WebDriver driver;

  @BeforeAll
  static void browser() {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "the waiting page's browser test needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
            + "/usr/bin/chromedriver): apt-get install chromium chromium-driver (.ci/run does)");
  }

  private WebDriver start() {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString()); // never Selenium Manager
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=1000,700", "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
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
      WebDriverWait wait = (WebDriverWait) new WebDriverWait(driver, Duration.ofSeconds(30))
          .pollingEvery(Duration.ofMillis(25));

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
