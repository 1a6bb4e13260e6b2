package io.wakeport.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.Browsers;
import io.wakeport.testing.TestBed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A certificate wakeport got from a real Pebble, in a real headless browser: Chromium trusts this
 * run's Pebble root (added to an NSS database of its own with certutil, as a user would; no
 * certificate error ignored), loads the https tenant with the certificate ordered at start, and
 * speaks HTTP/2 to it. The chain is checked to end at that root in Java as well.
 */
@Timeout(180)
class AcmeBrowserTest {

  private static final Path CERTUTIL = Path.of("/usr/bin/certutil");
  private static final String HOST = "shop.wakeport.test";

  @TempDir Path dir;
  @TempDir Path home;
  @TempDir Path profile;

  private WebDriver driver;
  private Pebble pebble;
  private Wakeport wakeport;

  @BeforeAll
  static void browser() {
    Browsers.assumeInstalled("the ACME browser test needs", CERTUTIL, "libnss3-tools");
  }

  @AfterEach
  void stop() throws Exception {
    if (driver != null) {
      driver.quit();
    }
    if (wakeport != null) {
      wakeport.close();
    }
    if (pebble != null) {
      pebble.close();
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " failed: " + out);
    }
  }

  @Test
  void chromiumTrustingPebblesRootLoadsATenantWithItsAcmeCertificateOverH2() throws Exception {
    pebble = new Pebble(dir.resolve("pebble"), 0);
    String rootPem = pebble.rootPem();
    X509Certificate root = Pem.certificates(rootPem).get(0);
    Path rootFile = dir.resolve("pebble-root.pem");
    Files.writeString(rootFile, rootPem);
    // Chromium on Linux takes user-added roots from $HOME/.pki/nssdb: a HOME of its own for this run.
    Path nss = Files.createDirectories(home.resolve(".pki/nssdb"));
    run(CERTUTIL.toString(), "-d", "sql:" + nss, "-N", "--empty-password");
    run(CERTUTIL.toString(), "-d", "sql:" + nss, "-A", "-t", "C,,", "-n", "pebble root", "-i", rootFile.toString());

    int httpsPort = TestBed.freePort();
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        state-dir: var
        admin: off
        https:
          listen: 127.0.0.1:%d
          redirect: false
          acme:
            directory: %s
            email: ops@example.com
            trust: %s
        tenants:
          shop:
            hosts: [%s]
            command: %s
        """.formatted(pebble.httpPort, httpsPort, pebble.directory(), pebble.trust, HOST, TestBed.demoCommand()));
    wakeport = Wakeport.start(ConfigLoader.load(config));
    TestBed.await("shop's certificate", Duration.ofSeconds(60), () -> wakeport.acme().statuses().stream()
        .anyMatch(s -> s.name().equals(HOST) && s.notAfter() != null));
    List<X509Certificate> chain = Handshake.chainFor(httpsPort, HOST);
    assertTrue(chain != null && Handshake.names(chain.get(0), HOST), "the ACME certificate is served: " + chain);
    chain.get(chain.size() - 1).verify(root.getPublicKey()); // issued under this run's root

    driver = Browsers.chromium(profile, 1000, 700, Map.of("HOME", home.toString()), Browsers.toLoopback(HOST));
    WebDriverWait wait = Browsers.waiting(driver);

    String url = "https://" + HOST + ":" + httpsPort + "/";
    driver.get(url); // a cold start: the waiting page, then the app by itself
    wait.until(d -> "wakeport demo: shop".equals(d.getTitle()) || d.getPageSource().contains("ERR_CERT"));
    assertEquals("wakeport demo: shop", driver.getTitle(), "Pebble's root is trusted (not Chromium's certificate error)");
    driver.navigate().refresh();
    wait.until(d -> "wakeport demo: shop".equals(d.getTitle()));
    assertEquals(url, driver.getCurrentUrl());
    assertTrue(driver.getPageSource().contains("<dt>tenant</dt><dd>shop</dd>"), "the app's own page");
    assertEquals("h2", ((JavascriptExecutor) driver).executeScript(
        "return performance.getEntriesByType('navigation')[0].nextHopProtocol;"), "HTTP/2 by ALPN");
  }
}
