package io.wakeport.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.LogCapture;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate replaced on disk again and again, as an operator's tooling does it (each file
 * written beside its target and renamed over it, the key and the certificate one after the other),
 * while clients make new TLS connections back to back: not one handshake fails, not one request
 * gets anything but 200, every handshake presents one of the certificates put in place and never
 * an older one than the same client saw before, and once the last pair is in place new handshakes
 * get it. Half the clients speak TLS 1.3, half TLS 1.2. Four of the six swaps leave the
 * half-renamed pair on disk until wakeport has read it (and refused it: a key that is not the
 * certificate's) and the clients have gone on handshaking against it.
 */
class CertificateSwapUnderLoadTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final int CLIENTS = 8;
  private static final int SWAPS = 6;
  private static final String HOST = "acme.test";

  @TempDir Path dir;

  /** What one connection saw: when its handshake began, the leaf's serial (null: failed), the status line. */
  record Seen(long startNanos, int client, BigInteger serial, String status, String failure) {}

  @Test
  void swappingTheCertificateUnderLoadFailsNoHandshake() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("default", 30, "default.test");
    TestCertificates.Pair first = certs.leaf("acme", 30, HOST);
    List<TestCertificates.Pair> renewals = new ArrayList<>();
    List<BigInteger> serials = new ArrayList<>(List.of(TestCertificates.read(first.cert()).getSerialNumber()));
    for (int i = 1; i <= SWAPS; i++) {
      TestCertificates.Pair pair = certs.leaf("acme-" + i, 30 + i, HOST);
      renewals.add(pair);
      serials.add(TestCertificates.read(pair.cert()).getSerialNumber());
    }
    assertEquals(SWAPS + 1, serials.stream().distinct().count(), "every pair has its own serial");
    int httpsPort = TestBed.freePort();
    String config = "watch: {quiet: 200ms}\n" + HttpsListenerTest.tenant("[" + HOST + "]", "")
        + HttpsListenerTest.https(httpsPort, "[" + HOST + "]");
    TrustManagerFactory trust = TestCertificates.trustManagers(TestCertificates.read(certs.caCert));

    try (LogCapture logs = new LogCapture(StaticCertificates.class); TestBed bed = TestBed.start(dir, config)) {
      bed.wakeport.watchConfig();
      // The backend started, so the load measures handshakes and proxying, not a cold start.
      assertEquals("HTTP/1.1 200 OK", connect(trust, httpsPort, 0).status());

      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
      AtomicLong handshakes = new AtomicLong();
      List<Thread> clients = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // a bound, whatever happens
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t = new Thread(() -> {
          while (!stop.get() && System.nanoTime() < deadline) {
            seen.add(connect(trust, httpsPort, client));
            handshakes.incrementAndGet();
          }
        }, "tls-client-" + c);
        t.setDaemon(true);
        clients.add(t);
        t.start();
      }

      long startedAt = System.nanoTime();
      Path cert = dir.resolve("certs/acme.crt");
      Path key = dir.resolve("certs/acme.key");
      int halfSeen = 0;
      List<long[]> halfway = new ArrayList<>(); // from, to, the serial's index served before
      long lastSwapServedAt = 0;
      try {
        TestBed.await("load to run", WAIT, () -> handshakes.get() >= CLIENTS * 5);
        for (int i = 1; i <= SWAPS; i++) {
          int swap = i;
          TestCertificates.Pair next = renewals.get(i - 1);
          boolean keyFirst = i % 2 == 1;
          boolean holdHalfway = (i - 1) % 4 < 2; // key first and cert first, each both held and not
          int logged = logs.messages().size();
          replace(keyFirst ? next.key() : next.cert(), keyFirst ? key : cert);
          if (holdHalfway) {
            // The pair on disk does not match now: wait until wakeport has read it (it logs what it did
            // with it), then let the clients go on handshaking against what it serves.
            TestBed.await("wakeport to read the half-renamed pair of swap " + i, WAIT, () -> logs.messages().size() > logged);
            halfSeen++;
            long readAt = System.nanoTime();
            long count = handshakes.get();
            TestBed.await("handshakes while the half-renamed pair is on disk", WAIT, () -> handshakes.get() >= count + CLIENTS * 2);
            halfway.add(new long[] {readAt, System.nanoTime(), swap - 1});
          }
          replace(keyFirst ? next.cert() : next.key(), keyFirst ? cert : key);
          BigInteger serial = serials.get(i);
          long from = System.nanoTime();
          TestBed.await("a new handshake to get the certificate of swap " + i, WAIT,
              () -> seen.stream().anyMatch(s -> s.startNanos() > from && serial.equals(s.serial())));
          lastSwapServedAt = System.nanoTime();
        }
        // After the last swap: every client's next handshakes get the last certificate.
        long count = handshakes.get();
        TestBed.await("handshakes after the last swap", WAIT, () -> handshakes.get() >= count + CLIENTS * 4);
      } finally {
        stop.set(true);
        for (Thread t : clients) {
          t.join(WAIT.toMillis());
        }
      }
      double seconds = (System.nanoTime() - startedAt) / 1e9;

      List<Seen> all = new ArrayList<>(seen);
      List<Seen> failed = all.stream().filter(s -> s.failure() != null).toList();
      List<Seen> not200 = all.stream().filter(s -> s.failure() == null && !"HTTP/1.1 200 OK".equals(s.status())).toList();
      System.out.printf("CertificateSwapUnderLoadTest: %d handshakes by %d clients in %.1f s (%.0f/s), %d swaps"
              + " (%d held halfway until wakeport had read the mismatched pair), %d failed, %d not 200%n",
          all.size(), CLIENTS, seconds, all.size() / seconds, SWAPS, halfSeen, failed.size(), not200.size());
      assertEquals(List.of(), failed.stream().limit(5).toList(), failed.size() + " of " + all.size() + " connections failed");
      assertEquals(List.of(), not200.stream().limit(5).toList(), not200.size() + " answers were not 200");
      assertTrue(all.stream().allMatch(s -> serials.contains(s.serial())), "only the certificates put in place");
      for (long[] window : halfway) {
        assertTrue(all.stream().filter(s -> s.startNanos() > window[0] && s.startNanos() < window[1])
            .allMatch(s -> s.serial().equals(serials.get((int) window[2]))), "the old pair is served while half renamed");
      }
      assertTrue(refusals(logs) >= halfSeen, "each half-renamed pair was read and refused: " + logs.messages());
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        List<Seen> mine = all.stream().filter(s -> s.client() == client)
            .sorted((a, b) -> Long.compare(a.startNanos(), b.startNanos())).toList();
        int highest = 0;
        for (Seen s : mine) {
          int index = serials.indexOf(s.serial());
          assertTrue(index >= highest, "client " + client + " saw certificate " + index + " after " + highest);
          highest = index;
        }
      }
      BigInteger last = serials.get(SWAPS);
      long lastAt = lastSwapServedAt;
      List<Seen> after = all.stream().filter(s -> s.startNanos() > lastAt).toList();
      assertTrue(after.size() >= CLIENTS * 4, "handshakes after the last swap: " + after.size());
      assertTrue(after.stream().allMatch(s -> last.equals(s.serial())), "after the last swap, its certificate only");
      assertEquals(SWAPS + 1, all.stream().map(Seen::serial).distinct().count(), "every certificate was served");
      assertEquals(last, certs.served(httpsPort, HOST).getSerialNumber());
      assertTrue(halfSeen >= 2, "swaps held halfway: " + halfSeen);
    }
  }

  private static int refusals(LogCapture logs) {
    return (int) logs.messages().stream().filter(m -> m.contains("is not the key of the certificate in")).count();
  }

  /** Puts {@code from} in place of {@code to} as a deploy would: written beside it, renamed over it. */
  private static void replace(Path from, Path to) throws Exception {
    Path tmp = to.resolveSibling("." + to.getFileName() + ".new");
    Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * One new connection: a full handshake (a TLS context of its own, so no session to resume) with
   * SNI, one HTTP/1.1 GET over it, then close. Verifies the chain against the test CA.
   */
  private static Seen connect(TrustManagerFactory trust, int port, int client) {
    long start = System.nanoTime();
    BigInteger serial = null;
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(HOST)));
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the name checked too
        parameters.setProtocols(new String[] {client % 2 == 0 ? "TLSv1.3" : "TLSv1.2"}); // half the clients each
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        serial = ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        socket.getOutputStream().write(("GET /pid HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        String status = in.readLine();
        while (in.read() != -1) {
          // drain to the close the request asked for
        }
        return new Seen(start, client, serial, status, null);
      }
    } catch (Exception e) {
      return new Seen(start, client, serial, null, e.toString());
    }
  }
}
