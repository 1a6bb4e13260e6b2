package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.cli.Main;
import io.wakeport.testing.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code https:} as the loader and {@code wakeport check} read it: every problem at its file and line. */
class HttpsSectionTest {

  @TempDir Path dir;
  TestCertificates certs;

  private static final String TENANT = """
      listen: 127.0.0.1:18080
      state-dir: var
      tenants:
        acme:
          hosts: [acme.test, shop.test]
          command: [/bin/true]
      """;

  @BeforeEach
  void setUp() throws Exception {
    TestCertificates.requireOpenssl();
    certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("acme", 30, "acme.test", "shop.test");
    certs.leaf("other", 30, "other.test");
  }

  private Path write(String https) throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, TENANT + https);
    return file;
  }

  private List<String> problems(String https) throws Exception {
    Path file = write(https);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.check(file));
    return e.problems().stream().map(ConfigProblem::toString).toList();
  }

  private String at(int line) {
    return dir.resolve("wakeport.yaml") + ":" + line + ": ";
  }

  @Test
  void aGoodSectionReadsWithItsDefaults() throws Exception {
    WakeportConfig config = ConfigLoader.check(write("""
        https:
          listen: [127.0.0.1:18443, "[::1]:18443"]
          certificates:
            - hosts: [acme.test, shop.test]
              cert: certs/acme.crt
              key: certs/acme.key
          hsts: {max-age: 365d, include-subdomains: true, preload: true}
        """));
    HttpsSettings https = config.https();
    assertEquals(List.of(new HttpsSettings.Listen("127.0.0.1", 18443), new HttpsSettings.Listen("::1", 18443)), https.listen());
    assertTrue(https.redirect(), "redirect is on by default");
    assertEquals(dir.resolve("certs/acme.crt"), https.certificates().get(0).cert(), "relative to the config file");
    assertEquals("max-age=31536000; includeSubDomains; preload", https.hstsHeader());
    assertEquals(List.of(), config.warnings());
    assertNull(ConfigLoader.check(write("")).https().hstsHeader());
    assertTrue(!ConfigLoader.check(write("")).https().enabled(), "no section: no https");
    assertEquals(Duration.ofHours(2), ConfigLoader.check(write("""
        https:
          listen: 127.0.0.1:18443
          redirect: false
          certificates: [{hosts: [acme.test, shop.test], cert: certs/acme.crt, key: certs/acme.key}]
          hsts: {max-age: 2h}
        """)).https().hsts().maxAge());
  }

  @Test
  void filesThatCannotBeServedAreProblemsAtTheirLine() throws Exception {
    List<String> problems = problems("""
        https:
          listen: 127.0.0.1:18443
          certificates:
            - hosts: [acme.test]
              cert: certs/missing.crt
              key: certs/acme.key
            - hosts: [acme.test]
              cert: certs/acme.crt
              key: certs/other.key
            - hosts: [nope.test]
              cert: certs/other.crt
              key: certs/other.key
            - hosts: [other.test]
              cert: certs/other.crt
              key: certs/ca.crt
        """);
    String certs = dir.resolve("certs") + "/";
    assertEquals(List.of(
        at(11) + "https.certificates[0].cert: " + certs + "missing.crt: no such file",
        at(15) + "https.certificates[1].key: " + certs + "other.key: is not the key of the certificate in " + certs + "acme.crt",
        at(17) + "https.certificates[2].cert: " + certs + "other.crt: does not cover nope.test (it names [other.test])",
        at(21).trim() + " https.certificates[3].key: " + certs + "ca.crt: not a PEM private key (PKCS#8, RSA or EC): "
            + "Missing -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY----- delimiter"),
        problems);
  }

  @Test
  void shapeProblemsAreNamedByKey() throws Exception {
    assertEquals(List.of(at(7) + "https.listen: is missing: the address of the https listener, such as 0.0.0.0:443",
        at(7) + "https.certificates: must list at least one certificate ({hosts: [...], cert: FILE, key: FILE}); the first "
            + "is the default"), problems("https: {}\n"));
    List<String> problems = problems("""
        https:
          listen: [127.0.0.1:18080, nowhere]
          certificates:
            - hosts: ["*.*.test", "bad host"]
              cert: certs/acme.crt
          hsts: {max-age: forever, preload: true}
          redirects: true
        """);
    assertEquals(List.of(
        at(13) + "https.redirects: unknown key (known keys: listen, certificates, acme, redirect, hsts)",
        at(8) + "https.listen: port 18080 is the plain listen port",
        at(8) + "https.listen: must be host:port (or a list of them), such as 0.0.0.0:443, not 'nowhere'",
        at(10) + "https.certificates[0].hosts: '*.*.test' is not a host name or *.name (one label)",
        at(10) + "https.certificates[0].hosts: 'bad host' is not a host name or *.name (one label)",
        at(10) + "https.certificates[0].key: is missing: a PEM file, relative to the config file",
        at(12) + "https.hsts.max-age: 'forever' is not a duration (use e.g. 500ms, 60s, 15m, 2h, 365d)",
        at(12) + "https.hsts.preload: needs include-subdomains: true and a max-age of at least 365d (hstspreload.org refuses less)"),
        problems);
  }

  @Test
  void checkWarnsOfExpiryButNotOfHostsAcmeCoversAndExitsZero() throws Exception {
    certs.leaf("soon", 5, "acme.test");
    Path file = write("""
        https:
          listen: 127.0.0.1:18443
          acme: {directory: "https://acme.example.net/directory", email: ops@example.com}
          certificates:
            - hosts: [acme.test]
              cert: certs/soon.crt
              key: certs/soon.key
        """);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new java.io.PrintWriter(out, true));
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int exit;
    try {
      exit = cli.execute("check", "--config", file.toString());
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    String warnings = err.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, warnings);
    assertTrue(warnings.contains("warning: " + at(12) + "https.certificates[0].cert: the certificate expires in 5 days"),
        warnings);
    // shop.test has no certificate file, but ACME gets it one: no warning about it.
    assertFalse(warnings.contains("shop.test is named by no https certificate"), warnings);
    assertTrue(out.toString(StandardCharsets.UTF_8).contains(": ok, 1 tenants"));
  }
}
