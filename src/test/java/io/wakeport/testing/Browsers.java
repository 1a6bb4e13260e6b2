package io.wakeport.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium for the browser tests: Debian's chromium and chromium-driver (which .ci/run
 * installs), never a browser or driver Selenium Manager would fetch. A test without them is
 * skipped, saying what to install.
 */
public final class Browsers {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private Browsers() {}

  /**
   * Skips the calling test unless chromium and chromedriver are executable here; {@code whoNeed}
   * begins the message, as in "the console's browser tests need".
   */
  public static void assumeInstalled(String whoNeed) {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        whoNeed + " Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
            + "): apt-get install chromium chromium-driver (.ci/run does)");
  }

  /** As {@link #assumeInstalled(String)}, and {@code tool} (from Debian's {@code toolPackage}) as well. */
  public static void assumeInstalled(String whoNeed, Path tool, String toolPackage) {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(tool),
        whoNeed + " Debian's chromium, chromium-driver and " + tool.getFileName() + " (" + toolPackage
            + "): apt-get install chromium chromium-driver " + toolPackage + " (.ci/run does)");
  }

  /**
   * Headless Chromium with a profile in {@code profile}, a window of {@code width} x {@code height},
   * and {@code extraArgs} after the common flags; {@code env} is added to the driver's (and so the
   * browser's) environment. The caller quits it.
   */
  public static WebDriver chromium(Path profile, int width, int height, Map<String, String> env, String... extraArgs) {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString()); // never Selenium Manager
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    List<String> args = new ArrayList<>(List.of("--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=" + width + "," + height,
        "--user-data-dir=" + profile));
    args.addAll(Arrays.asList(extraArgs));
    options.addArguments(args);
    ChromeDriverService.Builder service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort();
    if (!env.isEmpty()) {
      service.withEnvironment(env);
    }
    return new ChromeDriver(service.build(), options);
  }

  /** As {@link #chromium(Path, int, int, Map, String...)} with the driver's environment as it is. */
  public static WebDriver chromium(Path profile, int width, int height, String... extraArgs) {
    return chromium(profile, width, height, Map.of(), extraArgs);
  }

  /** The {@code --host-resolver-rules} flag sending each of {@code hosts} to 127.0.0.1. */
  public static String toLoopback(String... hosts) {
    StringBuilder rules = new StringBuilder();
    for (String host : hosts) {
      rules.append(rules.isEmpty() ? "" : ", ").append("MAP ").append(host).append(" 127.0.0.1");
    }
    return "--host-resolver-rules=" + rules;
  }

  /** A wait of up to 30 s polling every 25 ms, as the browser tests use. */
  public static WebDriverWait waiting(WebDriver driver) {
    return (WebDriverWait) new WebDriverWait(driver, Duration.ofSeconds(30)).pollingEvery(Duration.ofMillis(25));
  }
}
