package io.wakeport.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the {@code admin:} section: on at 127.0.0.1:8081 when absent, off only with
 * {@code admin: off}; {@code listen} is host:port or {@code unix:/path} (relative to the config
 * file); {@code users} lists HTTP Basic users with hashes from {@code wakeport hash-password}.
 */
final class AdminSection {

  static final List<String> KEYS = List.of("listen", "users");
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern HASH = Pattern.compile("pbkdf2-sha256\\$\\d+\\$[A-Za-z0-9+/=_-]+\\$[A-Za-z0-9+/=_-]+");

  private AdminSection() {}

  static AdminSettings read(YamlReader yaml, NodeTuple tuple, Path baseDir, Path stateDir, int frontPort) {
    AdminSettings d = AdminSettings.defaults(stateDir);
    if (tuple == null) {
      return d;
    }
    Node value = tuple.getValueNode();
    if (value instanceof ScalarNode) {
      // Only a switch fits here; a listen address is written under admin.listen.
      Boolean on = yaml.bool(value, "admin");
      if (on == null) {
        return d;
      }
      return on ? d : AdminSettings.off(stateDir);
    }
    Map<String, NodeTuple> entries = yaml.mapping(value, "admin");
    yaml.rejectUnknown(entries, "admin", KEYS);
    String host = d.host();
    int port = d.port();
    Path socket = null;
    if (entries.containsKey("listen")) {
      Node node = entries.get("listen").getValueNode();
      String text = yaml.string(node, "admin.listen");
      if (text != null) {
        text = text.trim();
        if (text.startsWith("unix:")) {
          String path = text.substring("unix:".length());
          if (path.isBlank()) {
            yaml.problem(node, "admin.listen", "unix: must name a socket file, such as unix:/run/wakeport/admin.sock");
          } else {
            socket = baseDir.resolve(path).normalize();
            host = null;
            port = 0;
          }
        } else {
          int colon = text.lastIndexOf(':');
          try {
            if (colon <= 0) throw new NumberFormatException();
            port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535) throw new NumberFormatException();
            host = text.substring(0, colon).replaceAll("^\\[|]$", "");
            if (port == frontPort) {
              // Admin paths must never be reachable on the front port, so they never share one.
              yaml.problem(node, "admin.listen", "port " + port + " is the front port (listen); the admin listener needs its own");
            }
          } catch (NumberFormatException e) {
            yaml.problem(node, "admin.listen",
                "must be host:port (such as 127.0.0.1:8081) or unix:/path/to/admin.sock, not '" + text + "'");
          }
        }
      }
    }
    List<AdminSettings.AdminUser> users = new ArrayList<>();
    if (entries.containsKey("users")) {
      readUsers(yaml, entries.get("users").getValueNode(), users);
    }
    return new AdminSettings(true, host, port, socket, users, d.tokenFile());
  }

  private static void readUsers(YamlReader yaml, Node node, List<AdminSettings.AdminUser> users) {
    if (!(node instanceof SequenceNode seq)) {
      yaml.problem(node, "admin.users", "must be a list of {name, password} entries");
      return;
    }
    Set<String> seen = new HashSet<>();
    for (Node item : seq.getValue()) {
      Map<String, NodeTuple> user = yaml.mapping(item, "admin.users");
      yaml.rejectUnknown(user, "admin.users", List.of("name", "password"));
      String name = user.containsKey("name") ? yaml.string(user.get("name").getValueNode(), "admin.users.name") : null;
      String hash = user.containsKey("password")
          ? yaml.string(user.get("password").getValueNode(), "admin.users.password") : null;
      if (name == null || !USER_NAME.matcher(name).matches()) {
        yaml.problem(item, "admin.users.name", "each user needs a name of letters, digits, '.', '_' or '-'");
        continue;
      }
      if (!seen.add(name)) {
        yaml.problem(item, "admin.users.name", "'" + name + "' is listed twice");
        continue;
      }
      if (hash == null || !HASH.matcher(hash).matches()) {
        // Never echo the value: it might be a password written in clear by mistake.
        yaml.problem(item, "admin.users.password",
            "must be a hash made by `wakeport hash-password` (pbkdf2-sha256$…), never the password itself");
        continue;
      }
      users.add(new AdminSettings.AdminUser(name, hash));
    }
  }
}
