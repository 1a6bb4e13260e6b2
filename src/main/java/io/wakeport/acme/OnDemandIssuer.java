package io.wakeport.acme;

import io.vertx.core.Future;
import io.wakeport.config.WakeportConfig;
import io.wakeport.tls.OnDemandCertificates;
import io.wakeport.tls.ServedCertificate;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certificate at the first handshake for a name nothing covers yet, when {@link OnDemandGate}
 * allows the name: read from the store, or ordered. Concurrent handshakes for one name share one
 * order ({@link AcmeService#certificate}); each waits at most {@code on-demand.wait}, and then
 * gets the default certificate while the order goes on for the next handshake.
 */
public final class OnDemandIssuer implements OnDemandCertificates {

  private static final Logger log = LoggerFactory.getLogger(OnDemandIssuer.class);

  private final AcmeService service;
  private final OnDemandGate gate;
  private final long waitMillis;
  private final AtomicInteger refusals = new AtomicInteger();

  public OnDemandIssuer(AcmeService service, Supplier<WakeportConfig> config) {
    this.service = service;
    this.gate = new OnDemandGate(config, service.settings().onDemand().ask());
    this.waitMillis = service.settings().onDemand().maxWait().toMillis();
  }

  /** Names the gate refused since start (tests and the log). */
  public int refusals() {
    return refusals.get();
  }

  @Override
  public CompletionStage<ServedCertificate> certificateFor(String serverName) {
    String name = ServedCertificate.normalize(serverName);
    if (!AcmeStore.NAME.matcher(name).matches()) {
      return Future.<ServedCertificate>succeededFuture(null).toCompletionStage();
    }
    return service.gateCheck(() -> gate.check(name))
        .compose(verdict -> {
          if (!verdict.allowed()) {
            refusals.incrementAndGet();
            log.info("no certificate on demand for {}: {}", name, verdict.reason());
            return Future.succeededFuture(null);
          }
          return service.certificate(name, true).map(AcmeCertificates::served);
        })
        .timeout(waitMillis, TimeUnit.MILLISECONDS)
        .toCompletionStage();
  }

}
