package io.wakeport.acme;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.Placeholders;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Whether a server name seen in a handshake may have a certificate ordered for it: a stranger
 * must not make wakeport order certificates for names it made up (each order costs the account's
 * rate limits at the CA). Allowed are the hosts of configured tenants, and a template tenant's
 * name when its label passes the template's {@code exists} gate (the path exists), or else when
 * the {@code ask} URL answers 2xx for {@code ?domain=NAME} (as Caddy's on_demand_tls). A template
 * without {@code exists} admits any label, so without {@code ask} its names are refused.
 * Blocking (file checks, the ask request): call it on a worker.
 */
final class OnDemandGate {

  /** What the gate decided, and why (for the log and the certificate's status). */
  record Verdict(boolean allowed, String reason) {}

  private final Supplier<WakeportConfig> config;
  private final URI ask;
  private final HttpClient http;
  /**
   * Refusals, for 5 s: a flood of handshakes for made-up names costs one file check (and one ask)
   * per name per 5 s; a customer directory created now is admitted within seconds.
   */
  private final Cache<String, Verdict> refused = Caffeine.newBuilder().maximumSize(100_000)
      .expireAfterWrite(Duration.ofSeconds(5)).build();

  OnDemandGate(Supplier<WakeportConfig> config, URI ask) {
    this.config = config;
    this.ask = ask;
    this.http = ask == null ? null : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  Verdict check(String name) {
    Verdict known = refused.getIfPresent(name);
    if (known != null) {
      return known;
    }
    Verdict verdict = decide(name);
    if (!verdict.allowed()) {
      refused.put(name, verdict);
    }
    return verdict;
  }

  private Verdict decide(String name) {
    WakeportConfig current = config.get();
    for (TenantConfig t : current.tenants().values()) {
      if (!t.isTemplate() && t.hosts().contains(name)) {
        return new Verdict(true, "a host of tenant " + t.name());
      }
    }
    int dot = name.indexOf('.');
    String label = dot > 0 ? name.substring(0, dot) : null;
    String suffix = dot > 0 ? name.substring(dot + 1) : null;
    for (TenantConfig t : current.tenants().values()) {
      if (t.isTemplate() && t.template().suffixes().contains(suffix) && t.template().exists() != null
          && ConfigLoader.TENANT_NAME.matcher(label).matches() && !current.tenants().containsKey(label)) {
        String path = Placeholders.substitute(t.template().exists(), Map.of("tenant", label, "route", "", "port", ""));
        if (Files.exists(t.baseDir().resolve(path))) {
          return new Verdict(true, "template " + t.name() + ": " + path + " exists");
        }
      }
    }
    if (ask != null) {
      return ask(name);
    }
    return new Verdict(false, "no configured tenant or template with exists admits it, and no on-demand ask is set");
  }

  private Verdict ask(String name) {
    String sep = ask.getRawQuery() == null ? "?" : "&";
    URI uri = URI.create(ask + sep + "domain=" + URLEncoder.encode(name, StandardCharsets.UTF_8));
    try {
      int status = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
      return new Verdict(status / 100 == 2, "ask " + ask + " answered " + status);
    } catch (java.io.IOException e) {
      return new Verdict(false, "ask " + ask + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Verdict(false, "interrupted while asking " + ask);
    }
  }
}
