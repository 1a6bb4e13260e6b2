package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code https.acme}: what it accepts, its defaults, and problems with file, line and key. */
class AcmeConfigTest {

  @TempDir Path dir;

  private Path write(String acme) throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        state-dir: var
        https:
          listen: 127.0.0.1:18443
          acme:
        %s
        tenants:
          shop:
            hosts: [shop.example.com]
            command: [app]
        """.formatted(acme.indent(4).stripTrailing()));
    return file;
  }

  @Test
  void acmeAloneServesHttpsWithDefaultsAndNoCertificateFiles() throws Exception {
    Files.createDirectories(dir.resolve("certs"));
    Files.writeString(dir.resolve("certs/ca.pem"), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    WakeportConfig config = ConfigLoader.check(write("""
        directory: https://acme.example.net/directory
        email: ops@example.com
        trust: certs/ca.pem
        """));
    AcmeSettings acme = config.acme();
    assertEquals(URI.create("https://acme.example.net/directory"), acme.directory());
    assertEquals("ops@example.com", acme.email());
    assertEquals(dir.resolve("certs/ca.pem"), acme.trust());
    assertEquals(Duration.ofDays(30), acme.renewBefore());
    assertEquals(5, acme.maxAttemptsPerHour());
    assertNull(acme.onDemand());
    assertEquals(AcmeSettings.Challenge.HTTP_01, acme.challenge());
    assertEquals(dir.resolve("var/acme/acme.example.net"), acme.acmeDir(), "one directory per ACME server");
    assertTrue(config.https().certificates().isEmpty());
    assertTrue(config.warnings().stream().noneMatch(w -> w.message().contains("shop.example.com")),
        "ACME covers the configured host: no warning about it: " + config.warnings());
  }

  @Test
  void onDemandReadsAskAndWait() throws Exception {
    AcmeSettings acme = ConfigLoader.check(write("""
        directory: https://acme.example.net/directory
        max-attempts-per-hour: 2
        renew-before: 10d
        on-demand: {ask: "http://127.0.0.1:9000/allowed", wait: 15s}
        challenge: tls-alpn-01
        """)).acme();
    assertEquals(AcmeSettings.Challenge.TLS_ALPN_01, acme.challenge());
    assertEquals(2, acme.maxAttemptsPerHour());
    assertEquals(Duration.ofDays(10), acme.renewBefore());
    assertEquals(URI.create("http://127.0.0.1:9000/allowed"), acme.onDemand().ask());
    assertEquals(Duration.ofSeconds(15), acme.onDemand().maxWait());
  }

  @Test
  void anOnDemandWaitLongerThanHalfTheHandshakeTimeoutIsAWarning() throws Exception {
    WakeportConfig config = ConfigLoader.check(write("""
        directory: https://acme.example.net/directory
        on-demand: {wait: 30s}
        """));
    assertEquals(Duration.ofSeconds(30), config.acme().onDemand().maxWait());
    ConfigProblem w = config.warnings().stream().filter(p -> p.key().equals("https.acme.on-demand.wait")).findFirst()
        .orElseThrow(() -> new AssertionError("no warning in " + config.warnings()));
    assertEquals(7, w.line());
    assertTrue(w.message().contains("5s"), w.message());
  }

  @Test
  void problemsNameTheirLineAndKey() throws Exception {
    Path file = write("""
        directory: not a url
        email: nobody
        max-attempts-per-hour: 0
        on-demand: {ask: ftp://x, wait: 0s, later: true}
        retries: 3
        trust: certs/missing.pem
        challenge: dns-01
        """);
    List<ConfigProblem> problems = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
    assertLine(problems, "https.acme.directory", 6);
    assertLine(problems, "https.acme.email", 7);
    assertLine(problems, "https.acme.max-attempts-per-hour", 8);
    assertLine(problems, "https.acme.on-demand.ask", 9);
    assertLine(problems, "https.acme.on-demand.wait", 9);
    assertLine(problems, "https.acme.on-demand.later", 9);
    assertLine(problems, "https.acme.retries", 10);
    assertLine(problems, "https.acme.trust", 11);
    assertLine(problems, "https.acme.challenge", 12);
  }

  @Test
  void aMissingDirectoryIsAProblem() throws Exception {
    Path file = write("email: ops@example.com");
    List<ConfigProblem> problems = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
    assertTrue(problems.stream().anyMatch(p -> p.key().equals("https.acme.directory")
        && p.message().contains("is missing")), problems.toString());
  }

  private static void assertLine(List<ConfigProblem> problems, String key, int line) {
    ConfigProblem p = problems.stream().filter(x -> x.key().equals(key)).findFirst()
        .orElseThrow(() -> new AssertionError("no problem with key " + key + " in:\n" + problems));
    assertEquals(line, p.line(), p.toString());
    assertTrue(p.file().endsWith("wakeport.yaml"), p.toString());
  }
}
