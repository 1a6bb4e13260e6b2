package io.wakeport;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.wakeport.accesslog.AccessLog;
import io.wakeport.config.ConfigException;
import io.wakeport.containment.Containment;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.ConfigProblem;
import io.wakeport.config.WakeportConfig;
import io.wakeport.frontdoor.FrontDoor;
import io.wakeport.metrics.MetricNames;
import io.wakeport.metrics.Metrics;
import io.wakeport.proxying.FrontServer;
import io.wakeport.acme.AcmeCertificates;
import io.wakeport.acme.AcmeService;
import io.wakeport.acme.CertificateManagement;
import io.wakeport.acme.OnDemandIssuer;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.Supervisor;
import io.wakeport.tls.CertificateRegistry;
import io.wakeport.tls.HttpsFront;
import io.wakeport.tls.OnDemandCertificates;
import io.wakeport.tls.StaticCertificates;
import io.wakeport.registration.RegistrationDesk;
import io.wakeport.registration.ServedConfig;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running wakeport: the front server, the routing table it reads and the supervisor it asks,
 * and the live config they come from.
 */
public final class Wakeport implements AutoCloseable, ServedConfig {

  private static final Logger log = LoggerFactory.getLogger(Wakeport.class);

  private final Vertx vertx;
  private final AccessLog accessLog;
  private final Metrics metrics;
  private final Supervisor supervisor;
  private final AtomicReference<RoutingTable> routing;
  /** Ports, admissions and holders of tenants made from templates, carried from snapshot to snapshot. */
  private final io.wakeport.config.DerivedTenants derived;
  /** The config as served: the files' ({@link #loaded}) with the registered members laid over it. */
  private volatile WakeportConfig config;
  /** The config as read from the files. */
  private volatile WakeportConfig loaded;
  /** Where backends register themselves; its changes are served through {@link #serve}. */
  private final RegistrationDesk registrationDesk;
  private volatile io.wakeport.config.ReloadOutcome lastReload = io.wakeport.config.ReloadOutcome.NONE;
  /** The admin listener, or null with admin: off. */
  private io.wakeport.admin.AdminServer admin;
  /** The cluster this node belongs to; {@link io.wakeport.cluster.Cluster#SINGLE} without a cluster section. */
  private io.wakeport.cluster.Cluster cluster = io.wakeport.cluster.Cluster.SINGLE;
  /** The https listeners' live settings and certificates; null without an https section at start. */
  private HttpsFront https;
  private StaticCertificates certificateFiles;
  /** Null without {@code https.acme} at start. */
  private AcmeService acme;
  /** ACME for the hosts no certificate file covers, and where those files lie; null without https. */
  private CertificateManagement certificateManagement;
  /** The config's files and the certificate files, watched once {@link #watchConfig} is called. */
  private FileWatching files;

  /** How often tenants made from templates are checked for ports to give back. */
  private static final long RELEASE_SWEEP_MILLIS = 1000;

  private Wakeport(Vertx vertx, Supervisor supervisor, AtomicReference<RoutingTable> routing, WakeportConfig config,
      AccessLog accessLog, io.wakeport.config.DerivedTenants derived, Metrics metrics,
      io.wakeport.registration.RegistrationSharing sharing) {
    this.metrics = metrics;
    this.derived = derived;
    this.accessLog = accessLog;
    this.vertx = vertx;
    this.supervisor = supervisor;
    this.routing = routing;
    this.config = config;
    this.loaded = config;
    this.registrationDesk = new RegistrationDesk(supervisor, this, sharing);
  }

  /** Starts serving {@code config}; blocks until the front port is bound. */
  public static Wakeport start(WakeportConfig config) throws Exception {
    return start(config, null);
  }

  /**
   * As {@link #start(WakeportConfig)}, a node of {@code given} (when not null) for a config without
   * a cluster section: a test's cluster of its own around the real forwarding code.
   */
  public static Wakeport start(WakeportConfig config, io.wakeport.cluster.Cluster given) throws Exception {
    // Linux's epoll transport when its native library loads (Vert.x falls back to NIO otherwise).
    // Before adopting or starting anything (or joining a cluster): a second wakeport on the same
    // config must fail here, not after it has taken over the first one's backends.
    checkListenAddressFree(config);
    // Without a cluster section: plain Vert.x, and no cluster class beyond the interface is loaded.
    io.wakeport.cluster.Clusters.Started started = io.wakeport.cluster.Clusters.start(config.cluster(),
        new VertxOptions().setPreferNativeTransport(true)
            .setEventLoopPoolSize(Math.max(2, config.proxy().eventLoops() + 1)), config.supervisor().maxRunning());
    Vertx vertx = started.vertx();
    io.wakeport.cluster.Cluster cluster = given == null ? started.cluster() : given;
    Metrics metrics = Metrics.off();
    try {
      metrics = config.metrics() ? Metrics.prometheus() : Metrics.off();
      io.wakeport.admin.AdminServer.checkFree(config.admin());
      Containment containment = Containment.detect(config.stateDir(), config.supervisor().containment());
      log.info("{}", containment.describe());
      containment.unenforceable(config).forEach(p -> log.warn("config: {}", p));
      Supervisor supervisor = new Supervisor(vertx, config, containment, metrics);
      if (cluster.enabled()) {
        supervisor.keepWarmByPlacement(); // ClusterWiring warms them where they are placed
      }
      supervisor.start(config).await(60, TimeUnit.SECONDS);
      io.wakeport.config.DerivedTenants derived = new io.wakeport.config.DerivedTenants(config.stateDir(), key -> {
        int slash = key.indexOf('/');
        io.wakeport.supervision.Instance instance = slash < 0 ? supervisor.instance(key, "")
            : supervisor.instance(key.substring(0, slash), key.substring(slash + 1));
        return instance == null || supervisor.forget(instance);
      });
      AtomicReference<RoutingTable> routing = new AtomicReference<>(new RoutingTable(config, derived));
      vertx.setPeriodic(RELEASE_SWEEP_MILLIS, t -> {
        io.wakeport.config.TemplateTenants templates = routing.get().templates();
        if (templates != null) {
          templates.releaseIdleLater();
        }
      });
      FrontDoor frontDoor = new FrontDoor(config.proxy().client(), metrics);
      gauges(metrics, supervisor, frontDoor);
      AccessLog accessLog = AccessLog.open(config.accessLog());
      Metrics measured = metrics;
      StaticCertificates certificateFiles = null;
      HttpsFront https = null;
      AcmeService acme = null;
      AtomicReference<Wakeport> self = new AtomicReference<>();
      if (config.https().enabled()) {
        certificateFiles = new StaticCertificates(new CertificateRegistry());
        certificateFiles.use(config.https().certificates());
        OnDemandCertificates onDemand = OnDemandCertificates.NONE;
        if (config.acme() != null) {
          acme = new AcmeService(vertx, config.acme(), AcmeCertificates.into(certificateFiles.registry()),
              AcmeCertificates.alpnInto(certificateFiles.registry()), metrics);
          if (config.acme().onDemand() != null) {
            onDemand = new OnDemandIssuer(acme,
                () -> self.get() == null ? config : self.get().config());
          }
        }
        https = new HttpsFront(config.https().listen().stream()
            .map(l -> io.vertx.core.net.SocketAddress.inetSocketAddress(l.port(), l.host())).toList(),
            certificateFiles.registry(), onDemand, config.https().redirect(), config.https().hstsHeader());
        if (acme != null) {
          https.challenges(AcmeCertificates.responder(acme.tokens()));
        }
      }
      HttpsFront front = https;
      vertx.deployVerticle(
              () -> new FrontServer(config.listenHost(), config.listenPort(), config.proxy(), routing::get, supervisor,
                  frontDoor, accessLog, measured, front, cluster, config.cluster()),
              new DeploymentOptions().setInstances(config.proxy().eventLoops()))
          .await(30, TimeUnit.SECONDS);
      logWarnings(config);
      if (config.proxy().h2c()) {
        log.warn("h2c is on: a cleartext connection's first request head is guarded only by client-header-timeout of "
            + "silence, and the connection caps count it once that head is read (see README, front door)");
      }
      log.info("wakeport listening on {}:{} with {} tenants (config {}, {} transport, at most {} connections and {} per "
              + "client, h2c {})", config.listenHost(), config.listenPort(), config.tenants().size(), config.file(),
          vertx.isNativeTransportEnabled() ? "epoll" : "NIO", frontDoor.maxConnections(),
          frontDoor.maxConnectionsPerClient(), config.proxy().h2c() ? "on" : "off");
      if (https != null) {
        for (io.vertx.core.net.SocketAddress address : https.listen()) {
          // Every listener: each has a TLS context of its own to build (ALPN and SNI alike).
          io.wakeport.tls.HandshakeWarmUp.run(address.host(), address.port(), 30_000);
        }
        log.info("https on {} with {} certificate(s), TLS 1.2 and 1.3, h2 and http/1.1; plain HTTP {}{}",
            config.https().listen(), certificateFiles.registry().all().size(),
            config.https().redirect() ? "redirects to https (308), ACME challenges excepted" : "served as well",
            config.https().hsts() == null ? "" : "; Strict-Transport-Security: " + config.https().hstsHeader());
      }
      log.info("{}, max-starting {}", config.supervisor().describeMaxRunning(), config.supervisor().maxStarting());
      log.info("metrics {}", metrics.enabled() ? "on: Prometheus text at the admin listener's /metrics"
          : "off (metrics: false)");
      Wakeport wakeport = new Wakeport(vertx, supervisor, routing, config, accessLog, derived, metrics,
          cluster.registrationSharing());
      wakeport.registrationDesk.start(vertx);
      metrics.gauge(MetricNames.MEMBERS_REGISTERED, "Members registered through the admin API now",
          () -> wakeport.registrations().count());
      wakeport.cluster = cluster;
      if (cluster.enabled()) {
        io.wakeport.cluster.ClusterWiring.wire(cluster, supervisor, metrics, config, wakeport::config);
      }
      wakeport.https = https;
      wakeport.certificateFiles = certificateFiles;
      wakeport.acme = acme;
      wakeport.certificateManagement = certificateFiles == null ? null
          : new CertificateManagement(certificateFiles, acme);
      wakeport.files = new FileWatching(wakeport::config, wakeport::reload, certificateFiles,
          wakeport.certificateManagement);
      self.set(wakeport);
      if (acme != null) {
        // In the background: a slow or failing ACME server never holds up the start.
        wakeport.certificateManagement.manage(config);
      }
      if (config.admin().enabled()) {
        Metrics scraped = metrics;
        wakeport.admin = io.wakeport.admin.AdminServer.start(vertx, config.admin(), wakeport,
            new io.wakeport.admin.AdminServer.Parts(java.util.List.of(new io.wakeport.admin.ClusterApi(cluster)),
                scraped.enabled() ? scraped::scrape : null));
      } else {
        log.info("admin: off: no admin listener");
      }
      return wakeport;
    } catch (Exception e) {
      cluster.close();
      vertx.close();
      metrics.close();
      throw e;
    }
  }

  /** The gauges read at each scrape: the supervisor's instances and queue, and the front connections. */
  private static void gauges(Metrics metrics, Supervisor supervisor, FrontDoor frontDoor) {
    metrics.gauge(MetricNames.FRONT_CONNECTIONS, "Front connections open now", frontDoor::openConnections);
    metrics.gauge(MetricNames.INSTANCES_RUNNING, "Instances with a process of wakeport's (starting, ready or stopping): "
        + "what max-running counts", supervisor::runningCount);
    metrics.gauge(MetricNames.START_QUEUED, "Instances waiting for a start slot (max-starting) or for room under "
        + "max-running", supervisor::queuedStarts);
    metrics.gauge(MetricNames.START_WAITING, "Requests waiting on a start now", supervisor::waitingRequests);
    for (InstanceState state : InstanceState.values()) {
      metrics.gauge(MetricNames.INSTANCES, "Instances by lifecycle state", () -> supervisor.count(state),
          "state", state.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  private static void logWarnings(WakeportConfig config) {
    for (ConfigProblem warning : config.warnings()) {
      log.warn("config: {}", warning);
    }
  }

  private static void checkListenAddressFree(WakeportConfig config) throws java.io.IOException {
    checkFree(config.listenHost(), config.listenPort());
    for (io.wakeport.config.HttpsSettings.Listen listen : config.https().listen()) {
      try {
        checkFree(listen.host(), listen.port());
      } catch (java.net.BindException e) {
        java.net.BindException named = new java.net.BindException("https.listen " + listen + ": " + e.getMessage());
        named.initCause(e);
        throw named;
      }
    }
  }

  private static void checkFree(String host, int port) throws java.io.IOException {
    java.net.InetSocketAddress address = new java.net.InetSocketAddress(host, port);
    if (address.isUnresolved() || address.getPort() == 0) {
      return; // the real bind reports it
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(address, 1);
    }
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  /** The cluster of this node: {@link io.wakeport.cluster.Cluster#SINGLE} (disabled) on a single machine. */
  public io.wakeport.cluster.Cluster cluster() {
    return cluster;
  }

  public WakeportConfig config() {
    return config;
  }

  /** How the last reload went ({@link io.wakeport.config.ReloadOutcome#NONE} before the first). */
  public io.wakeport.config.ReloadOutcome lastReload() {
    return lastReload;
  }

  /**
   * The https listeners' certificates, chosen by SNI: files' from the config, and whatever is
   * {@link CertificateRegistry#put put} at run time (ACME). Null when wakeport started without https.
   */
  public CertificateRegistry certificates() {
    return https == null ? null : https.registry();
  }

  /** The https side's live settings (redirect, HSTS, the HTTP-01 challenge responder); null without https. */
  public HttpsFront https() {
    return https;
  }

  /** Certificates from the ACME server of {@code https.acme}; null without it. */
  public AcmeService acme() {
    return acme;
  }

  /** The admin listener, or null when the config turns it off. */
  public io.wakeport.admin.AdminServer admin() {
    return admin;
  }

  /**
   * What wakeport measures; {@code metrics().scrape()} is the Prometheus text that the admin
   * listener serves as {@code GET /metrics} (content type {@link Metrics#CONTENT_TYPE}). With
   * {@code metrics: false} a no-op whose scrape is one comment line.
   */
  public Metrics metrics() {
    return metrics;
  }

  /**
   * Reloads the config whenever one of its files (or a file in an include directory) changes and
   * then stays still for {@code watch.quiet}; with {@code watch: false} only on {@link #reload()}
   * (HUP). A reload that switches {@code watch} starts or stops the watcher.
   */
  public void watchConfig() throws java.io.IOException {
    files.start();
  }

  /** Whether edits to the config files are picked up without a HUP. */
  public boolean watching() {
    return files.watching();
  }

  /**
   * Reads the config files again and applies them whole, or not at all: a config with any problem
   * is logged problem by problem (file, line, key) and the running one stays. Blocking file I/O:
   * called from the watcher's thread or a signal handler's, never from an event loop.
   *
   * @return true when the new config was applied
   */
  public synchronized boolean reload() {
    long began = System.nanoTime();
    WakeportConfig next;
    try {
      next = ConfigLoader.load(config.file());
    } catch (ConfigException e) {
      log.error("config not reloaded, still serving the previous one; {} problem(s):", e.problems().size());
      for (ConfigProblem problem : e.problems()) {
        log.error("  {}", problem);
      }
      lastReload = new io.wakeport.config.ReloadOutcome(System.currentTimeMillis(), false, e.problems());
      return false;
    }
    logWarnings(next);
    supervisor.containment().unenforceable(next).forEach(p -> log.warn("config: {}", p));
    WakeportConfig previous = loaded;
    next = io.wakeport.config.ClusterReload.keepRunning(previous, next);
    registrationDesk.retain(next);
    WakeportConfig loadedNext = next;
    next = registrationDesk.overlay(next);
    if (!next.listenHost().equals(previous.listenHost()) || next.listenPort() != previous.listenPort()
        || !next.stateDir().equals(previous.stateDir()) || !next.proxy().equals(previous.proxy())
        || !next.accessLog().equals(previous.accessLog()) || !next.admin().equals(previous.admin())
        || next.metrics() != previous.metrics()) {
      log.warn("listen, state-dir, admin, proxy, access-log and metrics settings take effect only when wakeport restarts");
    }
    if (!next.https().listen().equals(previous.https().listen())) {
      log.warn("https.listen takes effect only when wakeport restarts{}", https == null
          ? ": no https listener runs now" : ": the https listeners stay on " + https.listen());
    }
    if (https != null && next.https().enabled()) {
      // Certificates, redirect and HSTS apply live; the files were read and checked by the load.
      certificateFiles.use(next.https().certificates());
      https.update(next.https().redirect(), next.https().hstsHeader());
    }
    if (cluster.enabled()) {
      cluster.definitions(io.wakeport.cluster.ClusterWiring.digests(loadedNext));
    }
    serve(loadedNext);
    if (cluster.enabled()) {
      io.wakeport.cluster.ClusterWiring.warm(cluster, supervisor, next);
    }
    if (!java.util.Objects.equals(next.acme(), previous.acme())) {
      log.warn("https.acme takes effect only when wakeport restarts{}", acme == null ? ": no ACME runs now"
          : ": ACME keeps the settings it started with, and gets certificates for the hosts the reload adds");
    }
    if (acme != null && next.acme() != null) {
      certificateManagement.manage(next); // hosts added by the reload; known ones are left to their renewal plan
    }
    files.reloaded(previous, next);
    long added = loadedNext.tenants().keySet().stream().filter(t -> !previous.tenants().containsKey(t)).count();
    long removed = previous.tenants().keySet().stream().filter(t -> !loadedNext.tenants().containsKey(t)).count();
    long changed = loadedNext.tenants().entrySet().stream()
        .filter(e -> previous.tenants().containsKey(e.getKey()) && !previous.tenants().get(e.getKey()).equals(e.getValue()))
        .count();
    lastReload = new io.wakeport.config.ReloadOutcome(System.currentTimeMillis(), true, next.warnings());
    log.info("config reloaded in {} ms: {} tenants ({} added, {} removed, {} changed)",
        (System.nanoTime() - began) / 1_000_000, next.tenants().size(), added, removed, changed);
    return true;
  }

  /** Members that registered themselves (admin API), by tenant in registration order. */
  public io.wakeport.registration.Registrations registrations() {
    return registrationDesk.registrations();
  }

  /** Where backends register themselves, report their load and leave (the admin API's member endpoints). */
  public RegistrationDesk registrationDesk() {
    return registrationDesk;
  }

  @Override
  public WakeportConfig loaded() {
    return loaded;
  }

  /**
   * The files' config with the registered members now: one routing swap, then the supervisor
   * follows. Reloads and registration changes alike come here, holding this object's lock.
   */
  @Override
  public synchronized void serve(WakeportConfig files) {
    WakeportConfig next = registrationDesk.overlay(files);
    // One reference swap: every request sees either the old map or the new one.
    routing.set(new RoutingTable(next, derived, registrationDesk::departed));
    try {
      supervisor.reconcile(next).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.error("reconciling instances with the new config failed", e);
    }
    config = next;
    loaded = files;
    registrationDesk.pushLoads();
  }

  /**
   * Stops every backend wakeport started (unless the config says {@code on-exit: keep}: then they
   * keep running and the next wakeport adopts them), then the server.
   */
  @Override
  public void close() throws Exception {
    try {
      registrationDesk.close();
      if (admin != null) {
        admin.close();
      }
      if (acme != null) {
        acme.close();
      }
      files.close();
      try {
        // First: the others place this node's tenants elsewhere, and nothing is warmed here any more.
        cluster.close().await(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("leaving the cluster: {}", e.toString());
      }
      if (config.supervisor().keepOnExit()) {
        log.info("on-exit: keep: leaving backends running for the next wakeport to adopt");
      } else {
        supervisor.stopAll("wakeport is shutting down").await(60, TimeUnit.SECONDS);
      }
    } finally {
      cluster.close(); // (done above unless that failed first)
      supervisor.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
      accessLog.close();
      metrics.close();
    }
  }
}
