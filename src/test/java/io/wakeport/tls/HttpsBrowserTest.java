package io.wakeport.tls;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.Browsers;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * An https tenant in a real headless browser (Debian's chromium and chromium-driver): Chromium
 * trusts exactly the key of the test certificate (its SubjectPublicKeyInfo pinned with
 * {@code --ignore-certificate-errors-spki-list}, not every certificate error ignored), loads the
 * app's page over HTTP/2 negotiated by ALPN, and a form POSTed from that page reaches the backend
 * whole. A certificate whose key is not pinned gets Chromium's certificate error, so the pin is
 * what made the first load trusted. curl's --http2 sees the same listener and the same key.
 */
class HttpsBrowserTest {

  @TempDir Path dir;
  @TempDir Path profile;

  private WebDriver driver;

  @BeforeAll
  static void browser() {
    Browsers.assumeInstalled("the https browser test needs");
  }

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  /** The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: what Chromium's SPKI list and curl's pin take. */
  static String spkiSha256(X509Certificate certificate) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));
  }

  /** Headless Chromium resolving {@code hosts} to 127.0.0.1 and trusting only certificates with key {@code spki}. */
  private WebDriver start(String spki, String... hosts) {
    driver = Browsers.chromium(profile, 1000, 700, Browsers.toLoopback(hosts),
        "--ignore-certificate-errors-spki-list=" + spki);
    return driver;
  }

  private String protocol() {
    return (String) ((JavascriptExecutor) driver).executeScript(
        "return performance.getEntriesByType('navigation')[0].nextHopProtocol;");
  }

  private String text() {
    try {
      return driver.findElement(By.tagName("body")).getText();
    } catch (org.openqa.selenium.WebDriverException e) {
      return ""; // between two loads
    }
  }

  @Test
  void chromiumLoadsAnHttpsTenantOverH2AndPostsAFormThroughIt() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("default", 30, "default.test");
    TestCertificates.Pair acme = certs.leaf("acme", 30, "acme.test");
    String pin = spkiSha256(TestCertificates.read(acme.cert()));
    assertFalse(pin.equals(spkiSha256(TestCertificates.read(certs.caCert))), "the leaf's key is pinned, not the CA's");
    int httpsPort = TestBed.freePort();
    String config = HttpsListenerTest.tenant("[acme.test, other.test]", "")
        + HttpsListenerTest.https(httpsPort, "[acme.test]");

    try (TestBed bed = TestBed.start(dir, config)) {
      start(pin, "acme.test", "other.test");
      WebDriverWait wait = Browsers.waiting(driver);
      String origin = "https://acme.test:" + httpsPort;

      driver.get(origin + "/"); // a cold start: the waiting page first, then the app by itself
      wait.until(d -> "wakeport demo: acme".equals(d.getTitle()) || d.getPageSource().contains("ERR_CERT"));
      assertEquals("wakeport demo: acme", driver.getTitle(), "the pinned key is trusted: " + text());
      assertEquals(origin + "/", driver.getCurrentUrl());
      assertTrue(driver.getPageSource().contains("<dt>tenant</dt><dd>acme</dd>"), "the app's own page");
      driver.navigate().refresh(); // the app's page by its own navigation, whatever came before it
      wait.until(d -> "wakeport demo: acme".equals(d.getTitle()));
      assertEquals("h2", protocol(), "HTTP/2 by ALPN");
      assertEquals(Boolean.TRUE, ((JavascriptExecutor) driver).executeScript("return window.isSecureContext;"));

      // A form on the app's page, POSTed by a click: the body reaches the backend's /echo whole.
      String note = "hello over h2 & TLS: äöü " + "x".repeat(2000);
      ((JavascriptExecutor) driver).executeScript("""
          const form = document.createElement('form');
          form.method = 'post';
          form.action = '/echo';
          const field = document.createElement('textarea');
          field.name = 'note';
          field.value = arguments[0];
          const button = document.createElement('button');
          button.type = 'submit';
          button.id = 'send';
          button.textContent = 'send';
          form.append(field, button);
          document.body.append(form);
          """, note);
      driver.findElement(By.id("send")).click();
      wait.until(d -> text().contains("sha256="));
      assertEquals(origin + "/echo", driver.getCurrentUrl());
      byte[] body = ("note=" + java.net.URLEncoder.encode(note, StandardCharsets.UTF_8)).getBytes(StandardCharsets.US_ASCII);
      assertEquals(Integer.toString(body.length), field(text(), "length"), text());
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)), field(text(), "sha256"));
      assertEquals("h2", protocol(), "the POST went over h2 as well");

      // A name served the default certificate (another key, not pinned, not naming it): refused.
      driver.get("https://other.test:" + httpsPort + "/");
      wait.until(d -> !text().isEmpty());
      assertFalse(driver.getPageSource().contains("wakeport demo"), "no page behind a certificate error");
      assertTrue(driver.getPageSource().contains("ERR_CERT"), "Chromium's certificate error");

      // curl on the same listener: h2 by ALPN, and the key it pins is the one Chromium trusted.
      Curl.Result curl = Curl.run(certs.caCert, "acme.test", httpsPort, null, "--http2", "--pinnedpubkey",
          "sha256//" + pin, "-w", "version=%{http_version}\n", origin + "/pid");
      assertEquals(0, curl.exit(), curl.out());
      assertEquals("2", field(curl.out(), "version"), curl.out());
    }
  }
}
