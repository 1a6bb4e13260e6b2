package io.wakeport.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The admin listener: where it listens (a loopback TCP address by default, or a Unix socket) and
 * how callers prove who they are (a generated bearer token, or configured users).
 *
 * @param enabled    false only with {@code admin: off}
 * @param host       TCP host, or null when {@code socket} is set
 * @param port       TCP port, or 0 when {@code socket} is set
 * @param socket     Unix socket path (created with mode 0600), or null
 * @param users      HTTP Basic users with PBKDF2 hashes; empty means token mode
 * @param tokenFile  where token mode keeps its bearer token ({@code <state-dir>/admin.token})
 */
public record AdminSettings(boolean enabled, String host, int port, Path socket, List<AdminUser> users,
    Path tokenFile) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8081;

  public AdminSettings {
    users = List.copyOf(users);
  }

  /** The listener as it is when the section is absent. */
  public static AdminSettings defaults(Path stateDir) {
    return new AdminSettings(true, DEFAULT_HOST, DEFAULT_PORT, null, List.of(), stateDir.resolve("admin.token"));
  }

  public static AdminSettings off(Path stateDir) {
    return new AdminSettings(false, null, 0, null, List.of(), stateDir.resolve("admin.token"));
  }

  public boolean tokenMode() {
    return users.isEmpty();
  }

  /** As an operator writes it: {@code 127.0.0.1:8081}, {@code [::1]:8081} or {@code unix:/path}. */
  public String address() {
    if (socket != null) {
      return "unix:" + socket;
    }
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** One configured user; {@code hash} is {@code pbkdf2-sha256$<iterations>$<salt>$<key>} (base64). */
  public record AdminUser(String name, String hash) {
    @Override
    public String toString() {
      return "AdminUser[" + name + "]"; // never the hash in a log line
    }
  }
}
