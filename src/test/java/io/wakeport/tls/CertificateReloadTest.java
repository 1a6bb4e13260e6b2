package io.wakeport.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.Wakeport;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates change while wakeport runs: files replaced on disk, a config that names others, and
 * certificates put into the registry at run time. New handshakes see the change, open connections
 * keep going, and a file that does not read keeps what was served before.
 */
class CertificateReloadTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  TestCertificates certs;
  int httpsPort;

  @BeforeEach
  void setUp() throws Exception {
    TestCertificates.requireOpenssl();
    certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("default", 30, "default.test");
    certs.leaf("acme", 30, "acme.test");
    httpsPort = TestBed.freePort();
  }

  private String config(String moreCertificates) {
    return "watch: {quiet: 200ms}\n" + HttpsListenerTest.tenant("[acme.test]", "")
        + HttpsListenerTest.https(httpsPort, "[acme.test]") + moreCertificates.indent(4);
  }

  private BigInteger servedSerial(String name) {
    try {
      return certs.served(httpsPort, name).getSerialNumber();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Puts {@code from} in place of {@code to} as a deploy would: written beside it, renamed over it. */
  private static void replace(Path from, Path to) throws Exception {
    Path tmp = to.resolveSibling("." + to.getFileName() + ".new");
    Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** A keep-alive GET on an open TLS connection; the status line. */
  private static String get(SSLSocket socket, BufferedReader in) throws Exception {
    socket.getOutputStream().write("GET /pid HTTP/1.1\r\nHost: acme.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    String status = in.readLine();
    int length = 0;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    for (int i = 0; i < length; i++) {
      in.read();
    }
    return status;
  }

  @Test
  void aCertificateReplacedOnDiskServesNewHandshakesWhileOpenConnectionsGoOn() throws Exception {
    try (LogCapture logs = new LogCapture(StaticCertificates.class); TestBed bed = TestBed.start(dir, config(""))) {
      bed.wakeport.watchConfig();
      BigInteger before = servedSerial("acme.test");
      try (SSLSocket open = certs.handshake(httpsPort, "acme.test", "TLSv1.3")) {
        BufferedReader in = new BufferedReader(new InputStreamReader(open.getInputStream(), StandardCharsets.ISO_8859_1));
        assertEquals("HTTP/1.1 200 OK", get(open, in));

        TestCertificates.Pair renewed = certs.leaf("acme-renewed", 60, "acme.test");
        BigInteger after = TestCertificates.read(renewed.cert()).getSerialNumber();
        assertNotEquals(before, after);
        replace(renewed.key(), dir.resolve("certs/acme.key"));
        replace(renewed.cert(), dir.resolve("certs/acme.crt"));
        TestBed.await("new handshakes to get the renewed certificate", WAIT, () -> servedSerial("acme.test").equals(after));

        assertEquals("HTTP/1.1 200 OK", get(open, in), "the connection opened before goes on");
        assertEquals(before, ((X509Certificate) open.getSession().getPeerCertificates()[0]).getSerialNumber());
      }
      assertEquals("default.test", certs.served(httpsPort, "other.test").getSubjectX500Principal().getName().substring(3),
          "the other certificates stay");
      assertTrue(logs.contains("replacing the certificate it served"), logs.messages().toString());
    }
  }

  @Test
  void aFileThatNoLongerReadsKeepsTheOldCertificateAndTheLogNamesIt() throws Exception {
    try (LogCapture logs = new LogCapture(StaticCertificates.class); TestBed bed = TestBed.start(dir, config(""))) {
      bed.wakeport.watchConfig();
      BigInteger before = servedSerial("acme.test");
      Path key = dir.resolve("certs/acme.key");

      Files.writeString(dir.resolve("certs/garbage"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
      replace(dir.resolve("certs/garbage"), key);
      TestBed.await("the bad key to be reported", WAIT, () -> logs.messages().stream()
          .anyMatch(m -> m.contains(key + ": not a PEM private key") && m.contains("still serving")));
      assertEquals(before, servedSerial("acme.test"), "the old certificate is still served");

      // A key that reads but belongs to another certificate.
      replace(dir.resolve("certs/default.key"), key);
      TestBed.await("the mismatch to be reported", WAIT, () -> logs.contains(key + ": is not the key of the certificate in "
          + dir.resolve("certs/acme.crt")));
      assertEquals(before, servedSerial("acme.test"));

      // Put right again: served again, and a new handshake works with the same certificate.
      TestCertificates.Pair renewed = certs.leaf("acme-renewed", 60, "acme.test");
      replace(renewed.key(), key);
      replace(renewed.cert(), dir.resolve("certs/acme.crt"));
      BigInteger after = TestCertificates.read(renewed.cert()).getSerialNumber();
      TestBed.await("the repaired pair to be served", WAIT, () -> servedSerial("acme.test").equals(after));
    }
  }

  @Test
  void certificatesPutAtRunTimeAreServedForNamesTheFilesDoNotCover() throws Exception {
    try (TestBed bed = TestBed.start(dir, config(""))) {
      CertificateRegistry registry = bed.wakeport.certificates();
      TestCertificates.Pair issued = certs.leaf("issued", 30, "issued.test", "acme.test");
      ServedCertificate certificate = CertificateFiles.load(
          new CertificateSource(List.of("issued.test", "acme.test"), issued.cert(), issued.key()));
      BigInteger serial = certificate.leaf().getSerialNumber();
      BigInteger acme = servedSerial("acme.test");
      assertNotEquals(serial, servedSerial("issued.test"), "before: the default");

      registry.put(certificate);
      assertEquals(serial, servedSerial("issued.test"), "the next handshake gets it");
      assertEquals(acme, servedSerial("acme.test"), "a file's certificate wins for its names");
      assertTrue(registry.remove("acme.test"), "by any of its names");
      assertNotEquals(serial, servedSerial("issued.test"), "for all of its names");
      assertEquals("default.test", certs.served(httpsPort, "issued.test").getSubjectX500Principal().getName().substring(3));
      assertFalse(registry.remove("issued.test"));
    }
  }

  @Test
  void aConfigReloadAppliesNewCertificatesLiveAndABadOneKeepsTheOldConfigAtItsLine() throws Exception {
    certs.leaf("shop", 30, "shop.test");
    try (LogCapture logs = new LogCapture(Wakeport.class); TestBed bed = TestBed.start(dir, config(""))) {
      bed.rewrite(config("""
          - hosts: [shop.test]
            cert: certs/shop.crt
            key: certs/shop.key
          """));
      assertTrue(bed.wakeport.reload());
      assertEquals("shop.test", certs.served(httpsPort, "shop.test").getSubjectX500Principal().getName().substring(3));

      bed.rewrite(config("""
          - hosts: [gone.test]
            cert: certs/gone.crt
            key: certs/shop.key
          """));
      assertFalse(bed.wakeport.reload());
      String problems = bed.wakeport.lastReload().problems().toString();
      assertTrue(problems.contains("wakeport.yaml:20: https.certificates[2].cert: " + dir.resolve("certs/gone.crt")
          + ": no such file"), problems);
      assertEquals("shop.test", certs.served(httpsPort, "shop.test").getSubjectX500Principal().getName().substring(3),
          "the previous config's certificates stay");

      bed.rewrite(config("").replace("listen: 127.0.0.1:" + httpsPort, "listen: 127.0.0.1:" + TestBed.freePort()));
      assertTrue(bed.wakeport.reload());
      assertTrue(logs.contains("https.listen takes effect only when wakeport restarts"), logs.messages().toString());
      assertEquals("acme.test", certs.served(httpsPort, "acme.test").getSubjectX500Principal().getName().substring(3),
          "the listener stays where it was");
    }
  }
}
