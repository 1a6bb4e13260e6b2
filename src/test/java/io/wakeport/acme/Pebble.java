package io.wakeport.acme;

import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A real Pebble ACME server on loopback, with pebble-challtestsrv as its DNS answering 127.0.0.1
 * for every name (and no AAAA), so its HTTP-01 validation connects to {@link #httpPort} here.
 * Pebble's own TLS certificate is made with openssl for the run; {@link #trust} is its PEM.
 * Every port is a free one; the processes are ours alone and stopped by {@link #close}.
 */
final class Pebble implements AutoCloseable {

  final Path dir;
  final int httpPort;
  final int acmePort;
  final int managementPort;
  /** Where Pebble connects for TLS-ALPN-01 validation. */
  final int tlsPort;
  final Path trust;
  private final List<Process> processes = new ArrayList<>();

  /** Starts both; {@code validitySeconds} > 0 sets the certificates' lifetime (Pebble's default is 5 years). */
  Pebble(Path dir, long validitySeconds) throws Exception {
    this.dir = dir;
    Files.createDirectories(dir);
    httpPort = TestBed.freePort();
    acmePort = TestBed.freePort();
    managementPort = TestBed.freePort();
    tlsPort = TestBed.freePort();
    int dnsPort = TestBed.freePort();
    int challManagement = TestBed.freePort();
    TestCertificates.Pair own = TestCertificates.selfSigned(dir, "pebble", "ec", 2, "localhost",
        "DNS:localhost,IP:127.0.0.1");
    trust = own.cert();
    Path key = own.key();
    Path config = dir.resolve("pebble-config.json");
    Files.writeString(config, """
        {"pebble": {
          "listenAddress": "127.0.0.1:%d",
          "managementListenAddress": "127.0.0.1:%d",
          "certificate": "%s",
          "privateKey": "%s",
          "httpPort": %d,
          "tlsPort": %d,
          "ocspResponderURL": "",
          "externalAccountBindingRequired": false%s
        }}
        """.formatted(acmePort, managementPort, trust, key, httpPort, tlsPort,
        validitySeconds > 0 ? ", \"certificateValidityPeriod\": " + validitySeconds : ""));
    start(List.of("pebble-challtestsrv", "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "",
        "-tlsalpn01", "", "-management", "127.0.0.1:" + challManagement, "-defaultIPv4", "127.0.0.1",
        "-defaultIPv6", ""), Map.of(), "challtestsrv.log");
    // Its DNS must answer before Pebble validates anything: wait for its management port, opened with it.
    TestBed.await("pebble-challtestsrv", Duration.ofSeconds(20), () -> {
      try (java.net.Socket probe = new java.net.Socket("127.0.0.1", challManagement)) {
        return true;
      } catch (IOException e) {
        return false;
      }
    });
    start(List.of("pebble", "-config", config.toString(), "-dnsserver", "127.0.0.1:" + dnsPort),
        // No artificial sleeps, no nonces refused at random, every authorization validated anew.
        Map.of("PEBBLE_VA_NOSLEEP", "1", "PEBBLE_WFE_NONCEREJECT", "0", "PEBBLE_AUTHZREUSE", "0"), "pebble.log");
    HttpClient client = client();
    TestBed.await("Pebble's directory", Duration.ofSeconds(20), () -> {
      try {
        return client.send(HttpRequest.newBuilder(directory()).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 200;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    });
  }

  URI directory() {
    return URI.create("https://localhost:" + acmePort + "/dir");
  }

  /** The root Pebble signs with in this run (made at its start), as PEM. */
  String rootPem() throws Exception {
    return client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + managementPort + "/roots/0")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  String log() throws IOException {
    return Files.readString(dir.resolve("pebble.log"));
  }

  private HttpClient client() throws Exception {
    SSLContext ssl = TestCertificates.trusting(TestCertificates.read(trust));
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(2)).build();
  }

  private void start(List<String> command, Map<String, String> env, String logName) throws IOException {
    ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve(logName).toFile());
    b.environment().putAll(env);
    processes.add(b.start());
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
