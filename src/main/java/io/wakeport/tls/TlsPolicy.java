package io.wakeport.tls;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.KeyCertOptions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an https listener accepts: TLS 1.2 and 1.3 only; forward-secret AEAD suites only (ECDHE with
 * AES-GCM or ChaCha20-Poly1305 for 1.2, the three of 1.3), none on HTTP/2's block list (RFC 9113
 * 9.2.2); ALPN offering h2, then http/1.1; certificates from a {@link CertificateRegistry} by SNI.
 */
public final class TlsPolicy {

  private static final Logger log = LoggerFactory.getLogger(TlsPolicy.class);

  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** Mozilla's "intermediate" list, in its order, without the finite-field DHE suites. */
  public static final List<String> CIPHER_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  /** What may be asked for on demand: the client's name is bytes it chose (Netty reads them as ASCII, unchecked). */
  private static final java.util.regex.Pattern HOST_NAME =
      java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?", java.util.regex.Pattern.CASE_INSENSITIVE);

  private TlsPolicy() {}

  /**
   * Turns {@code options} into an https listener's, serving the certificates of {@code registry}.
   * {@code handshakeTimeout} bounds a handshake (the front door's guards start only once it is done).
   *
   * <p>Where handshakes run: with {@link OnDemandCertificates#NONE} the JDK engine's handshake work
   * and the SNI lookup run on the connection's event loop (Vert.x's default), which suits lookups
   * that never block. With an on-demand source both run on Vert.x's internal worker pool instead
   * ({@code useWorkerThread}), so a handshake may wait there for a certificate, at most half the
   * handshake timeout: the client then still gets the default certificate rather than a timeout.
   */
  public static HttpServerOptions apply(HttpServerOptions options, CertificateRegistry registry,
      OnDemandCertificates onDemand, Duration handshakeTimeout) {
    options.setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
        // SNI on: Netty's SniHandler hands each named handshake to the mapper below (on the worker
        // pool when on-demand certificates are on); the mapper answers null: one context for all.
        .setSni(true)
        .setSslEngineOptions(new AcmeTlsEngineOptions().setUseWorkerThread(onDemand != OnDemandCertificates.NONE))
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(PROTOCOLS))
        .setKeyCertOptions(new RegistryKeyCert(registry, onDemand, handshakeTimeout.dividedBy(2)))
        .setSslHandshakeTimeout(Math.max(1, handshakeTimeout.toMillis()))
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
    return options;
  }

  /**
   * Vert.x's view of the registry: one key manager that chooses per handshake. Its name mapper
   * always answers null, so Vert.x keeps no per-name TLS context: a client sending endless made-up
   * names costs no memory, and a registry change applies to the next handshake.
   */
  private record RegistryKeyCert(CertificateRegistry registry, OnDemandCertificates onDemand, Duration patience)
      implements KeyCertOptions {

    @Override
    public KeyCertOptions copy() {
      return this; // immutable; equal copies let the event loops' servers share one TLS context
    }

    @Override
    public KeyManagerFactory getKeyManagerFactory(Vertx vertx) throws Exception {
      return KeyCertOptions.wrap(new SniKeyManager(registry)).getKeyManagerFactory(vertx);
    }

    @Override
    public Function<String, KeyManagerFactory> keyManagerFactoryMapper(Vertx vertx) {
      return name -> {
        // A name with a TLS-ALPN-01 challenge pending is being validated for the very order it would wait on.
        if (onDemand != OnDemandCertificates.NONE && HOST_NAME.matcher(name).matches() && registry.find(name) == null
            && registry.alpnChallenge(name) == null) {
          ask(ServedCertificate.normalize(name));
        }
        return null; // the one context's key manager picks from the registry
      };
    }

    private void ask(String name) {
      CompletableFuture<ServedCertificate> pending;
      try {
        pending = onDemand.certificateFor(name).toCompletableFuture();
      } catch (RuntimeException e) {
        log.warn("https: no certificate on demand for {}: {}", name, e.toString());
        return;
      }
      // Kept when it comes, even after this handshake gave up waiting: the client's retry gets it.
      pending.whenComplete((certificate, failure) -> {
        if (certificate != null) {
          registry.put(certificate);
        } else if (failure != null) {
          log.warn("https: no certificate on demand for {}: {}", name, failure.toString());
        }
      });
      if (Context.isOnEventLoopThread()) {
        return; // never wait on an event loop
      }
      try {
        ServedCertificate certificate = pending.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        if (certificate != null) {
          registry.put(certificate); // before this handshake's key manager looks
        }
      } catch (TimeoutException e) {
        log.info("https: no certificate for {} within {} ms: this handshake gets the default", name, patience.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // logged by whenComplete
      }
    }
  }
}
