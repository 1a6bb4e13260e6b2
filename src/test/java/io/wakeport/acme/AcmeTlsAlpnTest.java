package io.wakeport.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS-ALPN-01 against a real Pebble: its validation connects to the https listener (Pebble's
 * tlsPort) with ALPN acme-tls/1 and gets the validation certificate; nothing listens on its HTTP-01
 * port, so only this challenge can pass. The certificate is then served to an ordinary handshake.
 */
@Timeout(120)
class AcmeTlsAlpnTest {

  @TempDir
  Path dir;

  @Test
  void aCertificateIsValidatedOverTlsAlpnOnTheHttpsListener() throws Exception {
    try (Pebble pebble = new Pebble(dir.resolve("pebble"), 0)) {
      X509Certificate root = Pem.certificates(pebble.rootPem()).get(0);
      Path config = dir.resolve("wakeport.yaml");
      Files.writeString(config, """
          listen: 127.0.0.1:%d
          state-dir: var
          admin: off
          https:
            listen: 127.0.0.1:%d
            acme:
              directory: %s
              trust: %s
              challenge: tls-alpn-01
          defaults:
            ports: 29200-29299
          tenants:
            shop:
              hosts: [shop.wakeport.test]
              command: %s
          """.formatted(TestBed.freePort(), pebble.tlsPort, pebble.directory(), pebble.trust, TestBed.demoCommand()));
      try (Wakeport wakeport = Wakeport.start(ConfigLoader.load(config))) {
        TestBed.await("shop's certificate", Duration.ofSeconds(60), () -> wakeport.acme().statuses().stream()
            .anyMatch(s -> s.name().equals("shop.wakeport.test") && (s.notAfter() != null || s.lastError() != null)));
        assertEquals(null, wakeport.acme().statuses().get(0).lastError());
        List<X509Certificate> chain = Handshake.chainFor(pebble.tlsPort, "shop.wakeport.test");
        assertNotNull(chain);
        assertTrue(Handshake.names(chain.get(0), "shop.wakeport.test"));
        chain.get(chain.size() - 1).verify(root.getPublicKey());
        assertEquals(1, wakeport.acme().orders());
      }
    }
  }
}
