package io.wakeport.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.acme.CertificateStatus;
import java.time.Instant;

/**
 * {@code /api/certificates}: each name ACME keeps a certificate for, with its expiry, last
 * renewal, last error and next planned attempt. An empty list without {@code https.acme}.
 */
final class CertificateApi {

  private final Wakeport wakeport;

  CertificateApi(Wakeport wakeport) {
    this.wakeport = wakeport;
  }

  void mount(Router router) {
    router.get("/api/certificates").handler(this::list);
  }

  private void list(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    if (wakeport.acme() != null) {
      for (CertificateStatus s : wakeport.acme().statuses()) {
        list.add(json(s));
      }
    }
    Replies.json(ctx, 200, new JsonObject().put("acme", wakeport.acme() != null).put("certificates", list));
  }

  static JsonObject json(CertificateStatus s) {
    return new JsonObject()
        .put("name", s.name())
        .put("notAfter", text(s.notAfter()))
        .put("lastRenewal", text(s.lastRenewal()))
        .put("lastError", s.lastError())
        .put("nextAttempt", text(s.nextAttempt()))
        .put("failures", s.failures())
        .put("onDemand", s.onDemand());
  }

  private static String text(Instant t) {
    return t == null ? null : t.toString();
  }
}
