package io.wakeport.admin;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.Browsers;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real headless browser (Debian's chromium and chromium-driver, which .ci/run
 * installs): log in, watch a cold start appear live, stop a tenant, drain a route, read a log
 * tail; a page without a session goes to the login page and a POST without the CSRF token is
 * refused. Screenshots of the pages go to {@code target/console-screenshots/} (those in
 * docs/console/ come from here).
 */
class ConsoleBrowserTest {


  @TempDir Path dir;
  @TempDir Path profile;

  private WebDriver driver;

  @BeforeAll
  static void browser() {
    Browsers.assumeInstalled("the console's browser tests need");
  }

  private WebDriver start() {
    driver = Browsers.chromium(profile, 1600, 1000);
    return driver;
  }

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  private static String config() {
    return """
        tenants:
          acme:
            hosts: [acme.test, www.acme.test]
            idle-timeout: 10m
            command: %s
          shop:
            hosts: [shop.test]
            routes: [first, second]
            sticky: {cookie: _s}
            command: %s
          globex:
            hosts: [globex.test]
            paths: [/globex]
            command: %s
          initech:
            hosts: [initech.test]
            command: %s
        """.formatted(
        // A slow boot, so the list can be seen STARTING; a name with markup, which the log must show as text.
        demoCommand("--boot-delay", "1500", "--tenant", "<script>document.title='pwned'</script>acme"),
        demoCommand(), demoCommand(), demoCommand());
  }

  private WebElement row(String instance) {
    return driver.findElement(By.cssSelector("tr[data-instance='" + instance + "']"));
  }

  private String state(String instance) {
    try {
      return row(instance).findElement(By.cssSelector("td.state .badge")).getText();
    } catch (org.openqa.selenium.StaleElementReferenceException | org.openqa.selenium.NoSuchElementException e) {
      return ""; // the table was just swapped for a fresh one
    }
  }

  private WebDriverWait waiting() {
    return (WebDriverWait) Browsers.waiting(driver).ignoring(org.openqa.selenium.StaleElementReferenceException.class);
  }

  /** Waits for the table's refresh after an instance became ready (its uptime shown), for a settled screenshot. */
  private void settled(String instance) {
    waiting().until(d -> !row(instance).findElement(By.cssSelector("td.uptime")).getText().equals("–"));
  }

  private void screenshot(String name) throws Exception {
    Path out = Path.of("target", "console-screenshots");
    Files.createDirectories(out);
    Files.write(out.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
  }

  @Test
  void anOperatorLogsInWatchesAColdStartStopsDrainsAndReadsTheLog() throws Exception {
    try (TestBed bed = TestBed.start(dir, config(), true)) {
      String base = "http://127.0.0.1:" + bed.adminPort;
      String token = Files.readString(bed.dir.resolve("var/admin.token")).trim();
      start();

      // Not reachable without a session: the login page.
      driver.get(base + "/console/tenants/shop");
      waiting().until(ExpectedConditions.urlContains("/console/login"));
      driver.findElement(By.name("token")).sendKeys("wrong");
      driver.findElement(By.cssSelector("button[type=submit]")).click();
      waiting().until(ExpectedConditions.textToBe(By.cssSelector(".notice.error"), "Wrong token."));
      driver.findElement(By.name("token")).sendKeys(token);
      driver.findElement(By.cssSelector("button[type=submit]")).click();
      waiting().until(ExpectedConditions.urlToBe(base + "/console/tenants/shop"));
      driver.get(base + "/console/");
      assertEquals("STOPPED", state("acme/"));

      // A cold start, seen live: the page is not reloaded (the marker set on it stays).
      waiting().until(ExpectedConditions.textToBe(By.id("live-status"), "live"));
      ((JavascriptExecutor) driver).executeScript("window.stillThisPage = 42;");
      var answer = bed.request(HttpMethod.GET, "acme.test", "/").send();
      waiting().until(d -> state("acme/").equals("STARTING"));
      waiting().until(d -> state("acme/").equals("READY"));
      assertEquals(200, answer.await(60, TimeUnit.SECONDS).statusCode());
      assertEquals(42L, ((JavascriptExecutor) driver).executeScript("return window.stillThisPage;"),
          "the list changed without a reload");
      waiting().until(d -> !row("acme/").findElement(By.cssSelector("td.pid")).getText().equals("–"));
      bed.get("globex.test", "/");
      waiting().until(d -> state("globex/").equals("READY"));
      settled("globex/");
      screenshot("tenants");

      // Stop, with the row's button.
      row("acme/").findElement(By.cssSelector("button[data-action=stop]")).click();
      waiting().until(d -> state("acme/").equals("STOPPED"));
      assertEquals(InstanceState.STOPPED, bed.wakeport.supervisor().instance("acme", "").state());
      assertTrue(driver.findElement(By.cssSelector(".notice.ok")).getText().contains("acme: stop done"));

      // Drain one route of shop on its page: shown as drained, and new sessions go to the other.
      driver.get(base + "/console/tenants/shop");
      driver.findElement(By.cssSelector("tr[data-actions='shop/first'] button[data-action=drain]")).click();
      waiting().until(d -> row("shop/first").findElement(By.cssSelector("td.mode")).getText().startsWith("drain"));
      assertEquals("active", row("shop/second").findElement(By.cssSelector("td.mode")).getText());
      Set<String> routes = new HashSet<>();
      for (int i = 0; i < 6; i++) {
        HttpResponse<Buffer> r = bed.get("shop.test", "/");
        assertEquals(200, r.statusCode());
        routes.add(field(r.bodyAsString(), "route"));
      }
      assertEquals(Set.of("second"), routes, "a new session does not go to the drained route");
      waiting().until(d -> state("shop/second").equals("READY"));
      settled("shop/second");
      screenshot("tenant-routes");

      // The log tail of acme, followed live: markup in it is text, and nothing of it runs.
      driver.get(base + "/console/tenants/acme");
      waiting().until(d -> d.findElement(By.id("log")).getText().contains("READY demo backend"));
      String log = driver.findElement(By.id("log")).getText();
      assertTrue(log.contains("READY demo backend <script>document.title='pwned'</script>acme"), log);
      assertEquals(0, driver.findElements(By.cssSelector("#log script")).size());
      assertTrue(!driver.getTitle().contains("pwned"), driver.getTitle());
      waiting().until(ExpectedConditions.textToBe(By.id("log-status"), "following"));
      // A new line, written after the page opened, arrives without a reload.
      bed.get("acme.test", "/");
      waiting().until(d -> state("acme/").equals("READY"));
      waiting().until(d -> d.findElement(By.id("log")).getText().split("READY demo backend", -1).length >= 3);
      waiting().until(d -> d.findElements(By.cssSelector("#events tbody tr")).size() >= 6);
      settled("acme/");
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(1600, 1900));
      screenshot("tenant");
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(1600, 1000));

      // A POST without the CSRF token is refused, even with the session cookie the browser sends.
      Object status = ((JavascriptExecutor) driver).executeAsyncScript(
          "var done = arguments[arguments.length - 1];"
              + "fetch('/console/tenants/acme/stop', {method: 'POST', redirect: 'manual'})"
              + ".then(function (r) { done(r.status); }, function (e) { done(String(e)); });");
      assertEquals(403L, status);
      assertEquals(InstanceState.READY, bed.wakeport.supervisor().instance("acme", "").state());

      // The config page: an edit with a mistake, reloaded from the page, is refused with file:line:key.
      bed.rewrite(config() + """
            broken:
              hosts: [broken.test]
              command: [/bin/true]
              idle-timeot: 5m
          """);
      driver.get(base + "/console/config");
      driver.findElement(By.id("reload")).click();
      waiting().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".notice.error")));
      String problems = driver.findElement(By.cssSelector("table.problems")).getText();
      assertTrue(problems.contains("tenants.broken.idle-timeot"), problems);
      assertTrue(problems.contains(bed.configFile.getFileName().toString()), problems);
      driver.findElement(By.id("check")).click();
      waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("check-result")));
      assertTrue(driver.findElement(By.id("check-result")).getText().contains("idle-timeot"));
      assertEquals(4, bed.wakeport.config().tenants().size(), "the running config stays");
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(1600, 1100));
      screenshot("config");

      // Logged out, the console is out of reach again.
      driver.findElement(By.id("logout")).click();
      waiting().until(ExpectedConditions.urlContains("/console/login"));
      driver.get(base + "/console/");
      waiting().until(ExpectedConditions.urlContains("/console/login"));
      screenshot("login");
    }
  }
}
