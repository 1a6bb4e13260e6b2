package io.wakeport.tls;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The https listeners: certificates chosen by SNI, TLS 1.2 and 1.3 only, h2 by ALPN through the
 * proxy, and requests over TLS marked as such to backends and in what wakeport writes back.
 */
class HttpsListenerTest {

  @TempDir Path dir;
  TestCertificates certs;
  int httpsPort;

  @BeforeEach
  void setUp() throws Exception {
    TestCertificates.requireOpenssl();
    certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("default", 30, "default.test");
    certs.leaf("acme", 30, "acme.test");
    certs.leafWithKey("apps", 30, "rsa", "*.apps.test");
    certs.leaf("x-apps", 30, "x.apps.test");
    httpsPort = TestBed.freePort();
  }

  /** The demo backend as tenant acme on {@code hosts}, with {@code extra} tenant keys. */
  static String tenant(String hosts, String extra) {
    return """
        tenants:
          acme:
            hosts: %s
            command: %s
        %s""".formatted(hosts, TestBed.demoCommand(), extra.indent(4));
  }

  /**
   * An {@code https:} section listening on {@code port} with certs/default.* first (for
   * default.test) and certs/acme.* for {@code acmeHosts}; more list entries may follow at 4 spaces.
   */
  static String https(int port, String acmeHosts) {
    return """
        https:
          listen: 127.0.0.1:%d
          certificates:
            - hosts: [default.test]
              cert: certs/default.crt
              key: certs/default.key
            - hosts: %s
              cert: certs/acme.crt
              key: certs/acme.key
        """.formatted(port, acmeHosts);
  }

  private String config(String tenantExtra, String httpsExtra) {
    return tenant("[acme.test, x.apps.test, y.apps.test]", tenantExtra) + https(httpsPort, "[acme.test]") + """
        - hosts: ["*.apps.test"]
          cert: certs/apps.crt
          key: certs/apps.key
        - hosts: [x.apps.test]
          cert: certs/x-apps.crt
          key: certs/x-apps.key
        """.indent(4) + httpsExtra.indent(2);
  }

  private static String cn(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName().replace("CN=", "");
  }

  @Test
  void sniPicksTheExactNameThenTheWildcardThenTheFirstCertificate() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("", ""))) {
      assertEquals("acme.test", cn(certs.served(httpsPort, "acme.test")));
      assertEquals("ACME.test".toLowerCase(), cn(certs.served(httpsPort, "ACME.TEST")), "names compare without case");
      assertEquals("*.apps.test", cn(certs.served(httpsPort, "y.apps.test")), "one label under the wildcard");
      assertEquals("x.apps.test", cn(certs.served(httpsPort, "x.apps.test")), "an exact name wins over a wildcard");
      assertEquals("default.test", cn(certs.served(httpsPort, "a.b.apps.test")), "a wildcard covers one label only");
      assertEquals("default.test", cn(certs.served(httpsPort, "apps.test")), "nor the bare suffix");
      assertEquals("default.test", cn(certs.served(httpsPort, "unknown.test")), "an unknown name: the first certificate");
      assertEquals("default.test", cn(certs.served(httpsPort, null)), "no SNI at all: the first certificate");
      assertEquals(0, bed.spawnCount("acme"), "handshakes alone start nothing");
    }
  }

  @Test
  void onlyTls12And13AreSpokenAndOldHellosGetNoServerHello() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("", ""))) {
      for (int minor : new int[] {1, 2}) { // TLS 1.0 (0x0301), TLS 1.1 (0x0302)
        int first = TlsHello.firstReplyByte(httpsPort, minor, "acme.test");
        assertTrue(first == 0x15 || first == -1, "TLS 1." + (minor - 1) + " gets an alert or a close, not a ServerHello: " + first);
      }
      // TLS 1.2 with CBC suites only (which the JDK would otherwise take): refused; with one AEAD suite: served.
      int cbc = TlsHello.firstReplyByte(httpsPort, 3, "acme.test", TlsHello.OLD_SUITES);
      assertTrue(cbc == 0x15 || cbc == -1, "CBC suites only: an alert or a close, not a ServerHello: " + cbc);
      assertEquals(0x16, TlsHello.firstReplyByte(httpsPort, 3, "acme.test", new int[] {0xC013, 0xC02B}),
          "the same hello with ECDHE-ECDSA-AES128-GCM gets a ServerHello");
      try (SSLSocket socket = certs.handshake(httpsPort, "acme.test", "TLSv1.2")) {
        assertEquals("TLSv1.2", socket.getSession().getProtocol());
        String suite = socket.getSession().getCipherSuite();
        assertTrue(suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20")), suite);
      }
      try (SSLSocket socket = certs.handshake(httpsPort, "acme.test", "TLSv1.3")) {
        assertEquals("TLSv1.3", socket.getSession().getProtocol());
      }
    }
  }

  @Test
  void h2ByAlpnCarriesRequestBodiesWholeToTheBackend() throws Exception {
    byte[] upload = new byte[3 * 1024 * 1024 + 17];
    new SecureRandom().nextBytes(upload);
    Path file = dir.resolve("upload.bin");
    Files.write(file, upload);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(upload));
    try (TestBed bed = TestBed.start(dir, config("", ""))) {
      String url = "https://acme.test:" + httpsPort + "/echo";
      Curl.Result known = Curl.run(certs.caCert, "acme.test", httpsPort, null, "--http2", "--data-binary", "@" + file,
          "-w", "version=%{http_version}\n", url);
      assertEquals(0, known.exit(), known.out());
      assertEquals("2", field(known.out(), "version"), "h2 negotiated by ALPN: " + known.out());
      assertEquals(Integer.toString(upload.length), field(known.out(), "length"), known.out());
      assertEquals(sha, field(known.out(), "sha256"), known.out());
      // From stdin: no content-length on the h2 stream, so the backend gets it chunked.
      Curl.Result streamed = Curl.run(certs.caCert, "acme.test", httpsPort, file, "--http2", "-T", "-",
          "-w", "version=%{http_version}\n", url);
      assertEquals(0, streamed.exit(), streamed.out());
      assertEquals("2", field(streamed.out(), "version"), streamed.out());
      assertEquals(sha, field(streamed.out(), "sha256"), streamed.out());
      // And a bodiless h2 GET reaches the backend without a body.
      Curl.Result get = Curl.run(certs.caCert, "acme.test", httpsPort, null, "--http2",
          "https://acme.test:" + httpsPort + "/headers");
      assertFalse(get.out().contains("transfer-encoding"), get.out());
      assertTrue(get.out().contains("x-forwarded-proto: https"), get.out());
    }
  }

  @Test
  void backendsHearHttpsAndCookiesAndRedirectsSayIt() throws Exception {
    String body = tenant("[acme.test]", """
        routes: [first, second]
        sticky: {insert-cookie: ROUTEID}
        """) + """
        https:
          listen: 127.0.0.1:%d
          redirect: false
          certificates:
            - hosts: [acme.test]
              cert: certs/acme.crt
              key: certs/acme.key
        """.formatted(httpsPort);
    try (TestBed bed = TestBed.start(dir, body)) {
      Curl.Result headers = Curl.run(certs.caCert, "acme.test", httpsPort, null, "--http1.1", "-i",
          "https://acme.test:" + httpsPort + "/headers");
      assertEquals(0, headers.exit(), headers.out());
      assertTrue(headers.out().contains("x-forwarded-proto: https"), headers.out());
      assertTrue(headers.out().contains("x-forwarded-port: " + httpsPort), headers.out());
      assertTrue(headers.out().contains("proto=https"), "Forwarded: " + headers.out());
      assertTrue(headers.out().matches("(?s).*set-cookie: ROUTEID=\\.(first|second); Path=/; HttpOnly; SameSite=Lax; Secure\\r?\\n.*"),
          "the inserted route cookie is Secure over TLS: " + headers.out());

      Curl.Result redirect = Curl.run(certs.caCert, "acme.test", httpsPort, null, "-i", "-b", "ROUTEID=.first",
          "https://acme.test:" + httpsPort + "/redirect-self?to=/login");
      assertTrue(redirect.out().toLowerCase().contains("location: https://acme.test:" + httpsPort + "/login"),
          "the backend's own address becomes the https one the client used: " + redirect.out());

      // The same tenant over plain HTTP (redirect: false): no Secure, http in the headers.
      var plain = bed.get("acme.test", "/headers");
      assertTrue(plain.bodyAsString().contains("x-forwarded-proto: http\n"), plain.bodyAsString());
      assertFalse(String.valueOf(plain.headers().getAll("set-cookie")).contains("Secure"), plain.headers().toString());
    }
  }

  @Test
  void hstsGoesOnHttpsAnswersOnlyNeverOnPlainHttp() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("", """
        redirect: false
        hsts: {max-age: 365d, include-subdomains: true}
        """))) {
      Curl.Result https = Curl.run(certs.caCert, "acme.test", httpsPort, null, "-i", "https://acme.test:" + httpsPort + "/");
      assertTrue(https.out().toLowerCase().contains("strict-transport-security: max-age=31536000; includesubdomains"),
          https.out());
      Curl.Result missing = Curl.run(certs.caCert, "nobody.test", httpsPort, null, "-k", "-i",
          "https://nobody.test:" + httpsPort + "/");
      assertTrue(missing.out().startsWith("HTTP/2 404"), missing.out());
      assertTrue(missing.out().toLowerCase().contains("strict-transport-security:"), "wakeport's own pages too: " + missing.out());
      var plain = bed.get("acme.test", "/");
      assertEquals(200, plain.statusCode());
      assertNull(plain.getHeader("Strict-Transport-Security"), "never over plain HTTP (RFC 6797 7.2)");
    }
  }

  @Test
  void plainHttpOnTheTlsPortAndTlsOnThePlainPortReachNoBackend() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("", "redirect: false\n"))) {
      try (RawHttp raw = new RawHttp(httpsPort)) {
        raw.send("GET / HTTP/1.1\r\nHost: acme.test\r\n\r\n");
        raw.socket.setSoTimeout(10_000);
        InputStream in = raw.socket.getInputStream();
        byte[] got = in.readNBytes(64);
        assertFalse(new String(got, StandardCharsets.ISO_8859_1).contains("HTTP/1.1 200"), "cleartext is no TLS record");
      }
      assertThrows(SSLException.class, () -> certs.handshake(bed.port, "acme.test").close(),
          "the plain port speaks no TLS");
      assertEquals(0, bed.spawnCount("acme"), "neither reached a backend");
    }
  }

  @Test
  void everyHttpsListenerServesAndTheFrontDoorsLimitsHoldThere() throws Exception {
    int second = TestBed.freePort();
    String body = config("", "client-header-timeout-placeholder").replace("  client-header-timeout-placeholder\n", "")
        .replace("listen: 127.0.0.1:" + httpsPort, "listen: [127.0.0.1:" + httpsPort + ", 127.0.0.1:" + second + "]")
        + "proxy:\n  client-header-timeout: 1s\n  max-request-line: 1KB\n";
    try (TestBed bed = TestBed.start(dir, body)) {
      assertEquals("acme.test", cn(certs.served(second, "acme.test")), "the second listener has the same certificates");
      Curl.Result ok = Curl.run(certs.caCert, "acme.test", second, null, "-s", "-o", "/dev/null", "-w", "%{http_code}",
          "https://acme.test:" + second + "/");
      assertEquals("200", ok.out());
      // A head that never ends: 408 after client-header-timeout, over TLS as in clear text.
      try (SSLSocket socket = certs.handshake(httpsPort, "acme.test", "TLSv1.3")) {
        socket.getSession();
        socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: acme.test\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        long began = System.nanoTime();
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        long millis = (System.nanoTime() - began) / 1_000_000;
        assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
        assertTrue(millis >= 800 && millis < 8000, "after about client-header-timeout: " + millis + " ms");
      }
      // A connection that never finishes its handshake is closed after the same time.
      try (java.net.Socket idle = new java.net.Socket("127.0.0.1", httpsPort)) {
        idle.setSoTimeout(10_000);
        long began = System.nanoTime();
        assertEquals(-1, idle.getInputStream().read(), "closed without a handshake");
        assertTrue((System.nanoTime() - began) / 1_000_000 < 8000);
      }
      Curl.Result longLine = Curl.run(certs.caCert, "acme.test", httpsPort, null, "--http1.1", "-s", "-o", "/dev/null",
          "-w", "%{http_code}", "https://acme.test:" + httpsPort + "/" + "a".repeat(2000));
      assertEquals("414", longLine.out(), "max-request-line holds on the TLS port");
      assertNotEquals(0, bed.spawnCount("acme"));
    }
  }

  @Test
  void anHttpsPortInUseIsOneLineNamingTheHttpsAddressAndKey() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      httpsPort = taken.getLocalPort();
      Path config = dir.resolve("wakeport.yaml");
      Files.writeString(config, "listen: 127.0.0.1:" + TestBed.freePort() + "\nadmin: off\nstate-dir: var\n" + config("", ""));
      try (io.wakeport.testing.Child wakeport = io.wakeport.testing.Child.wakeport("run", "--config", config.toString())) {
        assertNotEquals(0, wakeport.exitCode(java.time.Duration.ofSeconds(60)), wakeport.printed());
        assertEquals(List.of("wakeport: cannot listen on 127.0.0.1:" + httpsPort + " (https.listen in " + config
            + "): Address already in use"), wakeport.stderr(), wakeport.printed());
      }
    }
  }
}
