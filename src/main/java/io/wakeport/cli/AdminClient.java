package io.wakeport.cli;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.parsetools.RecordParser;
import io.wakeport.admin.AdminToken;
import io.wakeport.config.AdminSettings;
import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.WakeportConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The CLI's way to a running wakeport: the admin address and credentials come from the same
 * config file as {@code run} (the token file in token mode; in users mode
 * {@code WAKEPORT_ADMIN_USER}, or the only configured user, and {@code WAKEPORT_ADMIN_PASSWORD}
 * or a prompt). TCP or the Unix socket, through a Vert.x client.
 */
final class AdminClient implements AutoCloseable {

  /** A failure the CLI reports as one line and an exit code. */
  static final class Failure extends Exception {
    final int exitCode;

    Failure(int exitCode, String message) {
      super(message, null, false, false);
      this.exitCode = exitCode;
    }
  }

  /** Exit codes of the commands that talk to a running wakeport (documented in docs/admin-api.md). */
  static final int REFUSED = 1;
  static final int BAD_CONFIG = 2;
  static final int UNREACHABLE = 3;

  record Response(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    /** The error message of an error answer, or its body. */
    String message() {
      try {
        return json().getString("message", body.trim());
      } catch (RuntimeException e) {
        return body.trim();
      }
    }
  }

  private final AdminSettings settings;
  private final String authorization;
  private final Vertx vertx;
  private final HttpClient client;
  private String csrf;

  private AdminClient(AdminSettings settings, String authorization) {
    this.settings = settings;
    this.authorization = authorization;
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    // A connection per request: a few requests per command, and a pooled connection over the Unix
    // socket was seen to leave the second request of `status` unanswered now and then.
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000).setKeepAlive(false));
  }

  static AdminClient forConfig(Path file, Map<String, String> env) throws Failure {
    WakeportConfig config;
    try {
      config = ConfigLoader.check(file);
    } catch (ConfigException e) {
      throw new Failure(BAD_CONFIG, e.problems().size() == 1 ? e.getMessage()
          : "the config cannot be used:\n" + e.getMessage());
    }
    AdminSettings admin = config.admin();
    if (!admin.enabled()) {
      throw new Failure(UNREACHABLE, "the admin listener is off in " + config.file() + " (admin: off)");
    }
    if (admin.tokenMode()) {
      try {
        return new AdminClient(admin, "Bearer " + AdminToken.read(admin.tokenFile()));
      } catch (java.nio.file.NoSuchFileException e) {
        throw new Failure(UNREACHABLE, "no admin token at " + admin.tokenFile()
            + " (wakeport writes it at its first start: is wakeport running with this config?)");
      } catch (IOException e) {
        throw new Failure(UNREACHABLE, "cannot read the admin token in " + admin.tokenFile() + ": " + e.getMessage()
            + " (run as wakeport's user)");
      }
    }
    String user = env.get("WAKEPORT_ADMIN_USER");
    if (user == null && admin.users().size() == 1) {
      user = admin.users().get(0).name();
    }
    if (user == null) {
      throw new Failure(BAD_CONFIG, "several admin users are configured: set WAKEPORT_ADMIN_USER to one of them");
    }
    String password = env.get("WAKEPORT_ADMIN_PASSWORD");
    if (password == null) {
      java.io.Console console = System.console();
      if (console == null) {
        throw new Failure(BAD_CONFIG, "set WAKEPORT_ADMIN_PASSWORD (no terminal to ask for " + user + "'s password)");
      }
      char[] typed = console.readPassword("admin password for %s: ", user);
      password = typed == null ? "" : new String(typed);
    }
    return new AdminClient(admin, "Basic " + Base64.getEncoder()
        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
  }

  Response get(String path) throws Failure {
    return send(HttpMethod.GET, path, null);
  }

  /** A POST; with Basic credentials, the CSRF token is fetched first (a bearer token needs none). */
  Response post(String path, JsonObject body) throws Failure {
    if (!settings.tokenMode() && csrf == null) {
      Response r = get("/api/csrf");
      if (r.status() != 200) {
        return r;
      }
      csrf = r.json().getString("csrfToken");
    }
    return send(HttpMethod.POST, path, body);
  }

  private RequestOptions options(HttpMethod method, String path) {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(path)
        .putHeader("Authorization", authorization);
    if (settings.socket() != null) {
      options.setServer(SocketAddress.domainSocketAddress(settings.socket().toString())).setHost("localhost");
    } else {
      options.setHost(settings.host()).setPort(settings.port());
    }
    if (csrf != null) {
      options.putHeader("X-CSRF-Token", csrf);
    }
    return options;
  }

  private Response send(HttpMethod method, String path, JsonObject body) throws Failure {
    try {
      return client.request(options(method, path))
          .compose(req -> body == null ? req.send() : req.putHeader("Content-Type", "application/json")
              .send(body.encode()))
          .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), b.toString(StandardCharsets.UTF_8))))
          .await(10, TimeUnit.MINUTES); // a start may take its start-timeout
    } catch (Exception e) {
      throw unreachable(e);
    }
  }

  /**
   * Streams a server-sent event response, handing each data line of {@code event} to
   * {@code lines} until the stream ends (wakeport stopped) or the process is interrupted.
   */
  Response stream(String path, String event, Consumer<String> lines) throws Failure {
    try {
      HttpClientResponse resp = client.request(options(HttpMethod.GET, path)).compose(req -> req.send())
          .await(30, TimeUnit.SECONDS);
      if (resp.statusCode() != 200) {
        Buffer b = resp.body().await(30, TimeUnit.SECONDS);
        return new Response(resp.statusCode(), b.toString(StandardCharsets.UTF_8));
      }
      String[] current = {null};
      RecordParser parser = RecordParser.newDelimited("\n", resp);
      parser.handler(line -> {
        String text = line.toString(StandardCharsets.UTF_8);
        if (text.startsWith("event: ")) {
          current[0] = text.substring(7);
        } else if (text.startsWith("data: ") && event.equals(current[0])) {
          lines.accept(text.substring(6));
        } else if (text.isEmpty()) {
          current[0] = null;
        }
      });
      io.vertx.core.Promise<Void> ended = io.vertx.core.Promise.promise();
      parser.endHandler(v -> ended.tryComplete());
      parser.exceptionHandler(ended::tryFail);
      ended.future().await();
      return new Response(200, "");
    } catch (Exception e) {
      throw unreachable(e);
    }
  }

  private Failure unreachable(Exception e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    String reason = cause instanceof ConnectException || String.valueOf(cause.getMessage()).contains("refused")
        ? "connection refused"
        : String.valueOf(cause.getMessage()).contains("No such file") ? "no such socket"
        : cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return new Failure(UNREACHABLE, "cannot reach the admin listener at " + settings.address() + ": " + reason
        + " (is wakeport running with this config?)");
  }

  @Override
  public void close() {
    try {
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // exiting anyway
    }
  }
}
