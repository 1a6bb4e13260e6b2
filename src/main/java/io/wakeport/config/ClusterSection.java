package io.wakeport.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/** Reads {@code cluster:} into {@link ClusterSettings}; null without the section. */
final class ClusterSection {

  static final List<String> REQUIRED = List.of("node", "bind", "members", "forward-listen", "secret");
  /** {@code tls} is optional: mutual TLS between the forward listeners ({@link ClusterTlsSection}). */
  static final List<String> KEYS = List.of("node", "bind", "members", "forward-listen", "secret", "labels", "tls");
  /** Shorter secrets are refused: they authenticate every forwarded request. */
  static final int MIN_SECRET = 16;

  private ClusterSection() {}

  static ClusterSettings read(YamlReader yaml, NodeTuple tuple, Path baseDir, int listenPort, AdminSettings admin) {
    if (tuple == null) {
      return null;
    }
    Node node = tuple.getValueNode();
    Map<String, NodeTuple> entries = yaml.mapping(node, "cluster");
    yaml.rejectUnknown(entries, "cluster", KEYS);
    for (String key : REQUIRED) {
      if (!entries.containsKey(key)) {
        yaml.problem(node, "cluster." + key, "is missing: a cluster needs node, bind, members, forward-listen and secret");
      }
    }
    String name = null;
    if (entries.containsKey("node")) {
      Node value = entries.get("node").getValueNode();
      name = yaml.string(value, "cluster.node");
      if (name != null && !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
        yaml.problem(value, "cluster.node", "must be letters, digits, '.', '_' or '-' (at most 63), not '" + name + "'");
        name = null;
      }
    }
    String[] bind = address(yaml, entries.get("bind"), "cluster.bind");
    String[] forward = address(yaml, entries.get("forward-listen"), "cluster.forward-listen");
    List<String> members = new ArrayList<>();
    if (entries.containsKey("members")) {
      Node value = entries.get("members").getValueNode();
      for (String member : yaml.stringList(value, "cluster.members")) {
        if (parse(member) == null) {
          yaml.problem(value, "cluster.members", "must be host:port entries, such as 10.0.0.2:5701, not '" + member + "'");
        } else {
          members.add(member.trim());
        }
      }
      if (members.isEmpty()) {
        yaml.problem(value, "cluster.members", "must list at least this node's own bind address");
      }
    }
    String secret = null;
    if (entries.containsKey("secret")) {
      Node value = entries.get("secret").getValueNode();
      secret = yaml.string(value, "cluster.secret");
      if (secret != null && secret.length() < MIN_SECRET) {
        yaml.problem(value, "cluster.secret", "must be at least " + MIN_SECRET + " characters (use ${env:NAME})");
        secret = null;
      }
    }
    if (bind != null && forward != null && bind[0].equals(forward[0]) && bind[1].equals(forward[1])) {
      yaml.problem(entries.get("forward-listen").getValueNode(), "cluster.forward-listen", "must differ from cluster.bind");
      forward = null;
    }
    if (forward != null && Integer.parseInt(forward[1]) == listenPort) {
      yaml.problem(entries.get("forward-listen").getValueNode(), "cluster.forward-listen",
          "must differ from the front port " + listenPort + ": it takes only other nodes' authenticated requests");
      forward = null;
    }
    Map<String, String> labels = entries.containsKey("labels")
        ? PlacementSection.labels(yaml, entries.get("labels").getValueNode(), "cluster.labels") : Map.of();
    if (forward != null && admin != null && admin.enabled() && admin.socket() == null
        && Integer.parseInt(forward[1]) == admin.port()) {
      // Two listeners of one process on one port are not refused by Vert.x: they share it, each
      // taking some of the connections.
      yaml.problem(entries.get("forward-listen").getValueNode(), "cluster.forward-listen",
          "must differ from the admin listener's port " + admin.port());
      forward = null;
    }
    ClusterSettings.Tls tls = ClusterTlsSection.read(yaml, entries.get("tls"), baseDir,
        forward == null ? null : forward[0]);
    if (name == null || bind == null || forward == null || secret == null || members.isEmpty()
        || entries.containsKey("tls") && tls == null) {
      return null;
    }
    return new ClusterSettings(name, bind[0], Integer.parseInt(bind[1]), members, forward[0],
        Integer.parseInt(forward[1]), secret, labels, tls);
  }

  private static String[] address(YamlReader yaml, NodeTuple tuple, String key) {
    if (tuple == null) {
      return null;
    }
    String text = yaml.string(tuple.getValueNode(), key);
    if (text == null) {
      return null;
    }
    String[] parsed = parse(text);
    if (parsed == null) {
      yaml.problem(tuple.getValueNode(), key, "must be host:port with a port from 1 to 65535, such as 10.0.0.1:5701, not '"
          + text + "'");
    }
    return parsed;
  }

  /** host and port of {@code host:port} ({@code [v6]:port} too), or null. */
  static String[] parse(String text) {
    String value = text.trim();
    int colon = value.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    String host = value.substring(0, colon).replaceAll("^\\[|]$", "");
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 1 || port > 65535 || host.isEmpty()) {
        return null;
      }
      return new String[] {host, Integer.toString(port)};
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
