package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.esc;
import static io.wakeport.admin.ConsoleHtml.redirect;

import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;

/** The console's login page: the form, the login itself, and where to go after. */
final class LoginPage {

  private final Wakeport wakeport;
  private final AdminAuth auth;
  private final ConsoleHtml frame;

  LoginPage(Wakeport wakeport, AdminAuth auth, ConsoleHtml frame) {
    this.wakeport = wakeport;
    this.auth = auth;
    this.frame = frame;
  }

  void loginPage(RoutingContext ctx, int status, String problem) {
    String next = safeNext(ctx.request().getParam("next"));
    StringBuilder b = new StringBuilder();
    b.append("<main class=\"login\"><h1><span class=\"mark\">◐</span> wakeport</h1>");
    b.append("<form method=\"post\" action=\"").append(AdminAuth.LOGIN).append("\" class=\"card\">");
    if (problem != null) {
      b.append("<p class=\"notice error\">").append(esc(problem)).append("</p>");
    }
    b.append("<input type=\"hidden\" name=\"next\" value=\"").append(esc(next)).append("\">");
    if (auth.usersMode()) {
      b.append("<label>User <input name=\"user\" autocomplete=\"username\" required autofocus></label>");
      b.append("<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
          + "required></label>");
    } else {
      b.append("<label>Admin token <input type=\"password\" name=\"token\" autocomplete=\"off\" required "
          + "autofocus></label><p class=\"hint\">The token is in <code>")
          .append(esc(wakeport.config().admin().tokenFile())).append("</code>.</p>");
    }
    b.append("<button type=\"submit\">Log in</button></form></main>");
    frame.html(ctx, status, "Log in", null, b.toString());
  }

  void login(RoutingContext ctx) {
    String secret = auth.usersMode() ? ctx.request().getFormAttribute("password") : ctx.request().getFormAttribute("token");
    String user = ctx.request().getFormAttribute("user");
    auth.login(ctx.vertx(), AdminAuth.clientOf(ctx), user, secret).onComplete(ar -> {
      if (ar.failed() && ar.cause() instanceof LoginThrottle.Locked locked) {
        ctx.response().putHeader("Retry-After", Long.toString(LoginThrottle.LOCKED_FOR.toSeconds()));
        loginPage(ctx, 429, "Too many failed logins for this user from your address: try again in a minute.");
        return;
      }
      if (ar.failed() || ar.result() == null) {
        loginPage(ctx, 401, auth.usersMode() ? "Wrong user name or password." : "Wrong token.");
        return;
      }
      auth.openSession(ctx, ar.result());
      redirect(ctx, safeNext(ctx.request().getFormAttribute("next")));
    });
  }

  /** Only a path of the console itself: never another site, never {@code //host}. */
  static String safeNext(String next) {
    if (next == null || !next.startsWith("/console/") || next.startsWith("//") || next.contains("\\")
        || next.startsWith(AdminAuth.LOGIN)) {
      return "/console/";
    }
    return next;
  }
}
