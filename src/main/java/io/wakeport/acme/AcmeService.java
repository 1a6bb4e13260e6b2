package io.wakeport.acme;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.wakeport.config.AcmeSettings;
import io.wakeport.metrics.MetricNames;
import io.wakeport.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a certificate for each name it is given: read from the store when one there is not yet
 * due for renewal, else ordered from the ACME server; handed to the {@link CertificateSink} and
 * renewed ahead of expiry, failures retried with exponential backoff, every order counted against
 * {@code max-attempts-per-hour}. One order at a time per name: concurrent callers share it.
 *
 * <p>Its bookkeeping runs on one Vert.x context of its own; the store and the ACME client block,
 * so they run on worker threads ({@code executeBlocking}), never on an event loop.
 */
public final class AcmeService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AcmeService.class);
  /** Orders for different names run side by side, up to this many. */
  private static final int WORKERS = 4;

  private final Vertx vertx;
  private final Context context;
  /**
   * Orders, files and gate checks: a pool of its own, not Vert.x's worker pool, where on-demand
   * handshakes wait for these very orders (a full pool of waiting handshakes would starve them).
   */
  private final WorkerExecutor workers;
  /** On-demand gate checks (a file, an ask request): apart from orders, so a flood of names never delays one. */
  private final WorkerExecutor gateWorkers;
  private final AcmeSettings settings;
  private final AcmeStore store;
  private final Http01Tokens tokens;
  private final AcmeClient client;
  private final AttemptBudget budget;
  private final RenewalWindow window;
  private final CertificateSink sink;
  private final Metrics metrics;
  private final Clock clock;
  /** Written on {@link #context} only. */
  private final Map<String, Future<IssuedCertificate>> inFlight = new HashMap<>();
  private final Map<String, Long> timers = new HashMap<>();
  private final Map<String, Integer> failures = new HashMap<>();
  /** Read from any thread (admin API, metrics). */
  private final Map<String, CertificateStatus> statuses = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public AcmeService(Vertx vertx, AcmeSettings settings, CertificateSink sink, Metrics metrics) {
    this(vertx, settings, sink, AlpnChallengeSink.NONE, metrics);
  }

  /** With {@code alpn}, where TLS-ALPN-01 validation certificates go (the https listener). */
  public AcmeService(Vertx vertx, AcmeSettings settings, CertificateSink sink, AlpnChallengeSink alpn, Metrics metrics) {
    this(vertx, settings, sink, alpn, metrics, Clock.systemUTC(), Duration.ofSeconds(60));
  }

  AcmeService(Vertx vertx, AcmeSettings settings, CertificateSink sink, AlpnChallengeSink alpn, Metrics metrics,
      Clock clock, Duration orderTimeout) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.workers = vertx.createSharedWorkerExecutor("wakeport-acme", WORKERS);
    this.gateWorkers = vertx.createSharedWorkerExecutor("wakeport-acme-gate", WORKERS);
    this.settings = settings;
    this.store = new AcmeStore(settings.acmeDir());
    this.tokens = new Http01Tokens();
    this.client = new AcmeClient(settings, store, tokens, alpn, orderTimeout);
    this.budget = new AttemptBudget(store, settings.maxAttemptsPerHour());
    this.window = new RenewalWindow(settings.renewBefore());
    this.sink = sink;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** The HTTP-01 answers the plain listener serves at {@code /.well-known/acme-challenge/}. */
  public Http01Tokens tokens() {
    return tokens;
  }

  public AcmeSettings settings() {
    return settings;
  }

  /** Whether {@code host} is a name a public CA can issue for: a dotted DNS name, not an address or a single label. */
  public static boolean orderable(String host) {
    return AcmeStore.NAME.matcher(host).matches() && !host.matches("[0-9.]+") && !host.endsWith(".localhost");
  }

  /** Orders placed since this service was made. */
  public int orders() {
    return client.orders();
  }

  /**
   * Makes sure each of {@code names} has a certificate, from the store or a new order, and keeps
   * it renewed. Completes when all have one or failed (a failed name is retried later).
   */
  public Future<Void> manage(Collection<String> names) {
    List<Future<IssuedCertificate>> all = new ArrayList<>();
    for (String name : names) {
      if (!statuses.containsKey(name)) {
        all.add(certificate(name, false));
      }
    }
    return Future.join(all).otherwiseEmpty().mapEmpty();
  }

  /**
   * A certificate for {@code name}: the one served or stored when it is not due, else a new one.
   * Concurrent calls for one name share one order. Completes on the caller's context.
   */
  public Future<IssuedCertificate> certificate(String name, boolean onDemand) {
    Promise<IssuedCertificate> answer = Promise.promise();
    context.runOnContext(v -> {
      Future<IssuedCertificate> f = inFlight.get(name);
      if (f == null) {
        f = attempt(name, onDemand);
        inFlight.put(name, f);
        Future<IssuedCertificate> mine = f;
        f.onComplete(r -> inFlight.remove(name, mine));
      }
      f.onComplete(answer);
    });
    return answer.future();
  }

  /** Every managed name's state, by name. */
  public List<CertificateStatus> statuses() {
    List<CertificateStatus> out = new ArrayList<>(statuses.values());
    out.sort(Comparator.comparing(CertificateStatus::name));
    return out;
  }

  /** On {@link #context}: the stored certificate if not due, else an order; then the next plan. */
  private Future<IssuedCertificate> attempt(String name, boolean onDemand) {
    if (statuses.putIfAbsent(name, new CertificateStatus(name, null, null, null, null, 0, onDemand)) == null) {
      metrics.gauge(MetricNames.CERTIFICATE_EXPIRY_DAYS, "Days until the certificate served for a name ends",
          () -> daysLeft(name), "name", name);
    }
    cancelTimer(name);
    Promise<Outcome> done = Promise.promise();
    workers.<Outcome>executeBlocking(() -> {
      Instant now = clock.instant();
      IssuedCertificate stored = storedOrNone(name);
      if (stored != null && now.isBefore(earliestRenewal(stored)) && now.isBefore(stored.notAfter())) {
        return new Outcome(stored, false);
      }
      if (stored != null && now.isBefore(stored.notAfter())) {
        // Due, but still valid: served while it is renewed, and kept served if the renewal fails.
        context.runOnContext(v -> serveStored(name, stored));
      }
      Instant next = budget.take(name, now);
      if (next != null) {
        throw new AttemptsExhausted(name, settings.maxAttemptsPerHour(), next);
      }
      long started = System.nanoTime();
      log.info("ordering a certificate for {} from {}{}", name, settings.directory(),
          stored == null ? "" : " (the stored one is due for renewal: it ends " + stored.notAfter() + ")");
      IssuedCertificate issued = client.issue(name);
      store.save(issued);
      log.info("certificate for {} issued in {} ms, valid until {}", name,
          (System.nanoTime() - started) / 1_000_000, issued.notAfter());
      return new Outcome(issued, true);
    }, false).onComplete(r -> context.runOnContext(v -> done.handle(r)));
    return done.future().transform(r -> {
      if (r.succeeded()) {
        return Future.succeededFuture(settled(name, r.result()));
      }
      failed(name, r.cause());
      return Future.failedFuture(r.cause());
    });
  }

  private record Outcome(IssuedCertificate certificate, boolean issued) {}

  private IssuedCertificate settled(String name, Outcome outcome) {
    IssuedCertificate c = outcome.certificate();
    failures.remove(name);
    if (outcome.issued()) {
      metrics.acmeOrder(true);
    }
    sink.put(c);
    Instant due = window.renewAt(c.notBefore(), c.notAfter());
    long jitterMillis = window.maxJitter(c.notBefore(), c.notAfter()).toMillis();
    Instant planned = due.minusMillis(jitterMillis <= 0 ? 0 : ThreadLocalRandom.current().nextLong(jitterMillis));
    CertificateStatus before = statuses.get(name);
    statuses.put(name, new CertificateStatus(name, c.notAfter(),
        outcome.issued() ? clock.instant() : before.lastRenewal(), null, planned, 0, before.onDemand()));
    plan(name, planned);
    return c;
  }

  /** The stored certificate, or null: a damaged file must not keep the name from a new one. */
  private IssuedCertificate storedOrNone(String name) {
    try {
      return store.certificate(name).orElse(null);
    } catch (java.io.IOException e) {
      log.warn("{}; ordering a new one", e.getMessage());
      return null;
    }
  }

  private void serveStored(String name, IssuedCertificate stored) {
    CertificateStatus before = statuses.get(name);
    if (before.notAfter() == null) {
      sink.put(stored);
      statuses.put(name, new CertificateStatus(name, stored.notAfter(), before.lastRenewal(), before.lastError(),
          before.nextAttempt(), before.failures(), before.onDemand()));
    }
  }

  /** From here on a stored certificate is renewed: its window less the largest jitter, where a renewal may be planned. */
  private Instant earliestRenewal(IssuedCertificate c) {
    return window.renewAt(c.notBefore(), c.notAfter()).minus(window.maxJitter(c.notBefore(), c.notAfter()));
  }

  private void failed(String name, Throwable cause) {
    int n = failures.merge(name, 1, Integer::sum);
    Instant next = clock.instant().plus(RenewalWindow.backoff(n));
    if (cause instanceof AttemptsExhausted exhausted) {
      if (exhausted.nextAllowed().isAfter(next)) {
        next = exhausted.nextAllowed();
      }
    } else {
      metrics.acmeOrder(false); // a refusal by the bound placed no order
    }
    log.warn("no certificate for {}: {}; next attempt at {}", name, cause.getMessage(), next);
    CertificateStatus before = statuses.get(name);
    statuses.put(name, new CertificateStatus(name, before.notAfter(), before.lastRenewal(),
        String.valueOf(cause.getMessage()), next, n, before.onDemand()));
    plan(name, next);
  }

  private void plan(String name, Instant at) {
    if (closed) {
      return;
    }
    long delay = Math.max(1, Duration.between(clock.instant(), at).toMillis());
    cancelTimer(name);
    timers.put(name, vertx.setTimer(delay, id -> context.runOnContext(v -> {
      timers.remove(name, id);
      if (!closed && !inFlight.containsKey(name)) {
        CertificateStatus s = statuses.get(name);
        certificate(name, s != null && s.onDemand());
      }
    })));
  }

  private void cancelTimer(String name) {
    Long id = timers.remove(name);
    if (id != null) {
      vertx.cancelTimer(id);
    }
  }

  private double daysLeft(String name) {
    CertificateStatus s = statuses.get(name);
    if (s == null || s.notAfter() == null) {
      return Double.NaN;
    }
    return Duration.between(clock.instant(), s.notAfter()).toSeconds() / 86400.0;
  }

  /** Runs {@code job} (a gate check of an on-demand name) on the gate's workers. */
  <T> Future<T> gateCheck(java.util.concurrent.Callable<T> job) {
    return gateWorkers.executeBlocking(job, false);
  }

  @Override
  public void close() {
    closed = true;
    workers.close();
    gateWorkers.close();
    context.runOnContext(v -> {
      timers.values().forEach(vertx::cancelTimer);
      timers.clear();
    });
  }
}
