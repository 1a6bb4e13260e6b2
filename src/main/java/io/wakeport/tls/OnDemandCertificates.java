package io.wakeport.tls;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Asked during a TLS handshake for a server name that no certificate in the registry covers, so a
 * certificate can be got for it on demand (ACME, later). What it completes with is put into the
 * registry and served to this handshake and every later one; null (or a failure) serves the default.
 *
 * <p>Runs on a Vert.x internal worker thread (Netty's SniHandler maps names through Vert.x's
 * worker pool), which waits for the stage up to the TLS handshake timeout: blocking there is
 * allowed, but each waiting handshake holds one of that pool's threads (20 by default). The name is
 * whatever the client sent: only names wakeport routes should ever start an issuance.
 */
@FunctionalInterface
public interface OnDemandCertificates {

  CompletionStage<ServedCertificate> certificateFor(String serverName);

  /** Nothing on demand: unknown names get the default certificate. */
  OnDemandCertificates NONE = name -> CompletableFuture.completedFuture(null);
}
