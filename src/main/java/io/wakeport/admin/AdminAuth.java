package io.wakeport.admin;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.config.AdminSettings;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Runs before every admin route, in this order: a request from another origin gets 403; one
 * without valid credentials 401 (a bearer token in token mode, HTTP Basic in users mode); a
 * request that changes state and was not authenticated by a bearer token needs the
 * {@code X-CSRF-Token} of its principal (403 without). A bearer token is never sent by a browser
 * on its own, so a forged cross-site request cannot carry one; Basic credentials and the
 * console's session cookie are sent on their own, hence the CSRF token (as the header, or as the
 * {@code csrf} field of a console form).
 *
 * <p>The console's sessions: a browser cannot send a bearer header when it navigates, so the
 * console's login page checks the token (or a user's password) once and opens a session, kept
 * here in memory (an id of 32 random bytes in an HttpOnly, SameSite=Strict cookie; ended by
 * logout, after {@link #SESSION_MILLIS}, or when wakeport restarts). A console page asked for
 * without credentials is redirected to the login page rather than answered 401.
 */
final class AdminAuth implements Handler<RoutingContext> {

  /** The authenticated principal's name, put on the routing context. */
  static final String PRINCIPAL = "wakeport.principal";
  static final String CSRF_HEADER = "X-CSRF-Token";
  /** The CSRF token as a form field, for the console's forms. */
  static final String CSRF_FIELD = "csrf";
  static final String SESSION_COOKIE = "wakeport_session";
  /** A console session lasts this long from its login. */
  static final long SESSION_MILLIS = 12 * 3600_000L;
  private static final int MAX_SESSIONS = 1000;
  /** Where the console lives; its pages redirect to its login page. */
  static final String CONSOLE = "/console";
  static final String LOGIN = CONSOLE + "/login";
  /** Served without credentials: the login page and what it needs. */
  private static final Set<String> PUBLIC = Set.of(LOGIN, CONSOLE + "/assets/console.css");
  /** How long a verified Basic credential is remembered: PBKDF2 costs a good part of a second. */
  private static final long VERIFIED_FOR_MILLIS = 5 * 60_000;
  private static final int MAX_REMEMBERED = 1000;

  private final AdminSettings settings;
  /** Null in users mode. */
  private final byte[] token;
  private final Set<String> ownOrigins;
  private final boolean anyHostOrigin;
  /** Signs CSRF tokens and keys the verified-credentials cache; new at every start. */
  private final byte[] secret = new byte[32];
  private final Map<String, Long> verified = new ConcurrentHashMap<>();
  /** Console sessions by the HMAC of their id: the principal and when the session ends. */
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final LoginThrottle throttle = new LoginThrottle();
  /** A tenant's registration secret, or null (no such tenant, no registration, or no secret). */
  private final java.util.function.Function<String, String> registrationSecrets;
  /** The member endpoints, the only ones a tenant's registration secret opens: group 1 is the tenant. */
  private static final java.util.regex.Pattern MEMBER_PATH =
      java.util.regex.Pattern.compile("/api/tenants/([a-z0-9][a-z0-9-]{0,62})/members/[^/]+(?:/load)?");

  private record Session(String principal, long untilMillis) {}

  AdminAuth(AdminSettings settings, String token) {
    this(settings, token, tenant -> null);
  }

  AdminAuth(AdminSettings settings, String token, java.util.function.Function<String, String> registrationSecrets) {
    this.registrationSecrets = registrationSecrets;
    this.settings = settings;
    this.token = token == null ? null : token.getBytes(StandardCharsets.US_ASCII);
    new SecureRandom().nextBytes(secret);
    this.ownOrigins = ownOrigins(settings);
    // Listening on every address, the listener cannot list its own names: the Host a browser used is its origin.
    this.anyHostOrigin = settings.socket() == null
        && (settings.host().equals("0.0.0.0") || settings.host().equals("::"));
  }

  private static Set<String> ownOrigins(AdminSettings settings) {
    if (settings.socket() != null) {
      return Set.of(); // no browser reaches a Unix socket: any Origin is another's
    }
    int port = settings.port();
    String host = settings.host().indexOf(':') >= 0 ? "[" + settings.host() + "]" : settings.host();
    Set<String> origins = new java.util.HashSet<>(Set.of("http://" + host + ":" + port));
    if (host.equals("127.0.0.1") || host.equals("[::1]")) {
      origins.add("http://localhost:" + port);
    }
    return Set.copyOf(origins);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (!sameOrigin(ctx)) {
      Replies.error(ctx, 403, "foreign-origin", "requests from another origin are refused");
      return;
    }
    String path = ctx.request().path();
    if (PUBLIC.contains(path)) {
      ctx.next();
      return;
    }
    String authorization = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (registrant(ctx, path, authorization)) {
      ctx.next(); // a bearer secret, like the token: no CSRF token needed
      return;
    }
    if (authorization == null) {
      String principal = sessionPrincipal(ctx);
      if (principal != null) {
        authenticated(ctx, principal); // a cookie is sent by the browser on its own: CSRF applies
        return;
      }
      if (path.equals("/") || path.equals(CONSOLE) || path.startsWith(CONSOLE + "/")) {
        String next = path.equals("/") ? CONSOLE + "/" : ctx.request().uri();
        ctx.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION,
            LOGIN + "?next=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8)).end();
        return;
      }
    }
    if (token != null) {
      if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
          && MessageDigest.isEqual(token, authorization.substring(7).trim().getBytes(StandardCharsets.US_ASCII))) {
        ctx.put(PRINCIPAL, "token");
        ctx.next(); // bearer: no CSRF token needed (see the class comment)
        return;
      }
      unauthorized(ctx, "Bearer realm=\"wakeport\"", "a bearer token is required: Authorization: Bearer <token from "
          + settings.tokenFile() + ">");
      return;
    }
    String user = basicUser(authorization);
    if (user == null) {
      unauthorized(ctx, "Basic realm=\"wakeport\", charset=\"UTF-8\"", "a user name and password are required");
      return;
    }
    String key = hmac("basic:" + authorization);
    Long until = verified.get(key);
    if (until != null && until > System.currentTimeMillis()) {
      authenticated(ctx, user);
      return;
    }
    String client = clientOf(ctx);
    if (throttle.locked(client, user)) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(LoginThrottle.LOCKED_FOR.toSeconds()));
      Replies.error(ctx, 429, "too-many-failures", new LoginThrottle.Locked().getMessage());
      return;
    }
    String hash = settings.users().stream().filter(u -> u.name().equals(user)).map(AdminSettings.AdminUser::hash)
        .findFirst().orElse(null);
    char[] password = basicPassword(authorization);
    ctx.vertx().executeBlocking(() -> hash != null && PasswordHash.verify(password, hash), false).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        throttle.succeeded(client, user);
        if (verified.size() >= MAX_REMEMBERED) {
          verified.clear();
        }
        verified.put(key, System.currentTimeMillis() + VERIFIED_FOR_MILLIS);
        authenticated(ctx, user);
      } else {
        throttle.failed(client, user);
        unauthorized(ctx, "Basic realm=\"wakeport\", charset=\"UTF-8\"", "wrong user name or password");
      }
    });
  }

  /**
   * A backend registering itself with its tenant's registration secret (a bearer): allowed on that
   * tenant's member endpoints only, and only for the methods they take.
   */
  private boolean registrant(RoutingContext ctx, String path, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    HttpMethod method = ctx.request().method();
    if (!(method.equals(HttpMethod.PUT) || method.equals(HttpMethod.POST) || method.equals(HttpMethod.DELETE))) {
      return false;
    }
    // The path the router will match, dot segments and escapes resolved: "members/../load" is not a member's.
    java.util.regex.Matcher m = MEMBER_PATH.matcher(ctx.normalizedPath());
    if (!m.matches()) {
      return false;
    }
    String secret = registrationSecrets.apply(m.group(1));
    if (secret == null || !MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8),
        authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
      return false;
    }
    ctx.put(PRINCIPAL, "registration:" + m.group(1));
    return true;
  }

  /** Basic-authenticated (ambient) credentials: a request that changes state must carry the CSRF token. */
  private void authenticated(RoutingContext ctx, String user) {
    ctx.put(PRINCIPAL, user);
    if (changesState(ctx.request().method())) {
      String sent = ctx.request().getHeader(CSRF_HEADER);
      if (sent == null) {
        sent = ctx.request().getFormAttribute(CSRF_FIELD);
      }
      if (sent == null || !MessageDigest.isEqual(csrfToken(user).getBytes(StandardCharsets.US_ASCII),
          sent.trim().getBytes(StandardCharsets.US_ASCII))) {
        Replies.error(ctx, 403, "csrf", "this request changes state: send the " + CSRF_HEADER
            + " header with the token from GET /api/csrf");
        return;
      }
    }
    ctx.next();
  }

  /**
   * Checks what the console's login form sent: the token in token mode, a user's password in users
   * mode (PBKDF2, on a worker thread). Completes with the principal, or null when wrong; fails
   * with {@link LoginThrottle.Locked} when {@code client} has failed too often for that user.
   */
  io.vertx.core.Future<String> login(io.vertx.core.Vertx vertx, String client, String user, String secret) {
    if (secret == null || secret.isEmpty()) {
      return io.vertx.core.Future.succeededFuture(null);
    }
    if (token != null) {
      boolean right = MessageDigest.isEqual(token, secret.trim().getBytes(StandardCharsets.UTF_8));
      return io.vertx.core.Future.succeededFuture(right ? "token" : null);
    }
    if (throttle.locked(client, user)) {
      return io.vertx.core.Future.failedFuture(new LoginThrottle.Locked());
    }
    String hash = settings.users().stream().filter(u -> u.name().equals(user)).map(AdminSettings.AdminUser::hash)
        .findFirst().orElse(null);
    char[] password = secret.toCharArray();
    return vertx.executeBlocking(() -> hash != null && PasswordHash.verify(password, hash) ? user : null, false)
        .andThen(ar -> {
          if (ar.succeeded() && ar.result() != null) {
            throttle.succeeded(client, user);
          } else {
            throttle.failed(client, user);
          }
        });
  }

  /** The client's address, the key of the login throttle (a Unix socket's clients share one). */
  static String clientOf(RoutingContext ctx) {
    io.vertx.core.net.SocketAddress remote = ctx.request().remoteAddress();
    return remote == null ? "-" : remote.isInetSocket() ? remote.hostAddress() : "unix";
  }

  /** Whether the console's login asks for a user name (users mode) or the token alone. */
  boolean usersMode() {
    return token == null;
  }

  /** Opens a session for {@code principal} and sets its cookie on the response. */
  void openSession(RoutingContext ctx, String principal) {
    long now = System.currentTimeMillis();
    sessions.values().removeIf(s -> s.untilMillis() <= now);
    if (sessions.size() >= MAX_SESSIONS) {
      sessions.entrySet().stream().min(java.util.Map.Entry.comparingByValue(
              java.util.Comparator.comparingLong(Session::untilMillis)))
          .ifPresent(oldest -> sessions.remove(oldest.getKey()));
    }
    byte[] id = new byte[32];
    random.nextBytes(id);
    String value = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    sessions.put(hmac("session:" + value), new Session(principal, now + SESSION_MILLIS));
    ctx.response().addCookie(sessionCookie(ctx, value).setMaxAge(SESSION_MILLIS / 1000));
  }

  /** Ends the request's session, if any, and clears its cookie. */
  void closeSession(RoutingContext ctx) {
    io.vertx.core.http.Cookie cookie = ctx.request().getCookie(SESSION_COOKIE);
    if (cookie != null) {
      sessions.remove(hmac("session:" + cookie.getValue()));
    }
    ctx.response().addCookie(sessionCookie(ctx, "").setMaxAge(0));
  }

  private static io.vertx.core.http.Cookie sessionCookie(RoutingContext ctx, String value) {
    return io.vertx.core.http.Cookie.cookie(SESSION_COOKIE, value).setPath("/").setHttpOnly(true)
        .setSameSite(io.vertx.core.http.CookieSameSite.STRICT).setSecure(ctx.request().isSSL());
  }

  /** The principal of the request's live session, or null. */
  private String sessionPrincipal(RoutingContext ctx) {
    io.vertx.core.http.Cookie cookie = ctx.request().getCookie(SESSION_COOKIE);
    if (cookie == null || cookie.getValue().isEmpty()) {
      return null;
    }
    Session session = sessions.get(hmac("session:" + cookie.getValue()));
    if (session == null || session.untilMillis() <= System.currentTimeMillis()) {
      return null;
    }
    return session.principal();
  }

  /** The CSRF token of {@code principal}: valid until wakeport restarts. */
  String csrfToken(String principal) {
    return hmac("csrf:" + principal);
  }

  private static boolean changesState(HttpMethod method) {
    return !(method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS));
  }

  /**
   * Whether the request comes from no browser page (no Origin, no Referer: curl, the CLI) or from
   * a page of the admin listener itself. Checked for every method: a foreign page has no
   * business reading the API either.
   */
  private boolean sameOrigin(RoutingContext ctx) {
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    if (origin == null) {
      String referer = ctx.request().getHeader(HttpHeaders.REFERER);
      if (referer == null) {
        return true;
      }
      origin = originOf(referer);
      if (origin == null) {
        return false;
      }
    }
    origin = origin.trim().toLowerCase(Locale.ROOT);
    if (ownOrigins.contains(origin)) {
      return true;
    }
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    return anyHostOrigin && host != null && origin.equals("http://" + host.toLowerCase(Locale.ROOT));
  }

  private static String originOf(String url) {
    try {
      URI uri = new URI(url);
      if (uri.getScheme() == null || uri.getHost() == null) {
        return null;
      }
      return uri.getScheme() + "://" + uri.getRawAuthority().replaceFirst("^[^@]*@", "");
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

  private static void unauthorized(RoutingContext ctx, String challenge, String message) {
    ctx.response().putHeader("WWW-Authenticate", challenge);
    Replies.error(ctx, 401, "unauthorized", message);
  }

  private static String decodedBasic(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    try {
      String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
      return decoded.indexOf(':') > 0 ? decoded : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String basicUser(String authorization) {
    String decoded = decodedBasic(authorization);
    return decoded == null ? null : decoded.substring(0, decoded.indexOf(':'));
  }

  private static char[] basicPassword(String authorization) {
    String decoded = decodedBasic(authorization);
    return decoded.substring(decoded.indexOf(':') + 1).toCharArray();
  }

  private String hmac(String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
