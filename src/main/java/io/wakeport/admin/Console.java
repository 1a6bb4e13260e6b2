package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.asset;
import static io.wakeport.admin.ConsoleHtml.redirect;
import static io.wakeport.admin.ConsoleHtml.resource;

import io.vertx.ext.web.Router;
import io.wakeport.Wakeport;

/**
 * The web console under {@code /console}: pages rendered here, with a few lines of JavaScript
 * from the jar for live updates (the API's own event streams, {@code /api/events} and a log's
 * {@code follow}), nothing from elsewhere. It shows what the JSON API shows, built by the same
 * code ({@link TenantApi}'s instance JSON, {@link ConfigApi}), and acts through the same
 * {@link TenantActions}. Every page passes {@link AdminAuth}: a browser logs in once and holds
 * a session cookie; every form that changes something carries the CSRF token.
 */
final class Console {

  private final AdminAuth auth;
  private final LoginPage loginPage;
  private final TenantListPage listPage;
  private final TenantPage tenantPage;
  private final ConfigPage configPage;
  private final ClusterPage clusterPage;
  private final String css = resource("console/console.css");
  private final String js = resource("console/console.js");

  Console(Wakeport wakeport, AdminAuth auth, TenantApi tenants, ConfigApi configs) {
    this.auth = auth;
    ConsoleHtml frame = new ConsoleHtml(auth, () -> wakeport.cluster().enabled());
    this.loginPage = new LoginPage(wakeport, auth, frame);
    this.listPage = new TenantListPage(wakeport, frame);
    this.tenantPage = new TenantPage(wakeport, tenants, new TenantActions(wakeport.supervisor(), wakeport.cluster()), frame);
    this.configPage = new ConfigPage(configs, frame);
    this.clusterPage = new ClusterPage(wakeport, frame);
  }

  void mount(Router router) {
    // Exactly these two paths (a route "/" or "/console" would match more).
    router.getWithRegex("/|/console").handler(ctx -> redirect(ctx, "/console/"));
    router.get("/console/assets/console.css").handler(ctx -> asset(ctx, "text/css; charset=utf-8", css));
    router.get("/console/assets/console.js").handler(ctx -> asset(ctx, "text/javascript; charset=utf-8", js));
    router.get(AdminAuth.LOGIN).handler(ctx -> loginPage.loginPage(ctx, 200, null));
    router.post(AdminAuth.LOGIN).handler(loginPage::login);
    router.post("/console/logout").handler(ctx -> {
      auth.closeSession(ctx);
      redirect(ctx, AdminAuth.LOGIN);
    });
    router.get("/console/").handler(ctx -> listPage.list(ctx, false));
    router.get("/console/rows").handler(ctx -> listPage.list(ctx, true));
    router.get("/console/config").handler(configPage::configPage);
    router.post("/console/reload").handler(configPage::reload);
    router.get("/console/cluster").handler(ctx -> clusterPage.clusterPage(ctx, false));
    router.get("/console/cluster/part").handler(ctx -> clusterPage.clusterPage(ctx, true));
    router.get("/console/tenants/:tenant").handler(ctx -> tenantPage.tenantPage(ctx, false));
    router.get("/console/tenants/:tenant/part").handler(ctx -> tenantPage.tenantPage(ctx, true));
    router.post("/console/tenants/:tenant/:action").handler(tenantPage::act);
    router.post("/console/tenants/:tenant/routes/:route/:action").handler(tenantPage::act);
  }
}
