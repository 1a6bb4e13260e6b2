package io.wakeport.tls;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Asked during a TLS handshake for a server name that no certificate in the registry covers, so a
 * certificate can be got for it on demand (ACME: {@code acme.OnDemandIssuer}). What it completes
 * with is put into the registry and served to this handshake and every later one; null (or a
 * failure) serves the default.
 *
 * <p>Called on a Vert.x internal worker thread: with a source other than {@link #NONE} the https
 * listeners run their handshakes there ({@code JdkSSLEngineOptions.useWorkerThread}), and the
 * handshake waits for the stage at most half the TLS handshake timeout, then gets the default
 * certificate; a certificate that comes later is still put into the registry. Each waiting
 * handshake holds one of that pool's threads (20 by default, {@code VertxOptions.internalBlockingPoolSize}):
 * answer quickly and do long work elsewhere. The name is whatever the client sent (checked to be a
 * plausible host name, lower-cased): only names wakeport routes should ever start an issuance.
 */
@FunctionalInterface
public interface OnDemandCertificates {

  CompletionStage<ServedCertificate> certificateFor(String serverName);

  /** Nothing on demand: unknown names get the default certificate. */
  OnDemandCertificates NONE = name -> CompletableFuture.completedFuture(null);
}
