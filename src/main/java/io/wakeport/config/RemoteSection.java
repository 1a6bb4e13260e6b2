package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads what makes a route a member on another machine: its {@code address} (and {@code tls}),
 * and the tenant's {@code check} that takes such members in and out of balancing.
 */
final class RemoteSection {

  /** {@code [http[s]://]host:port}; the host a name, an IPv4 address or a bracketed IPv6 one. */
  private static final Pattern ADDRESS = Pattern.compile("(?:(https?)://)?(\\[[0-9A-Fa-f:.]+]|[^/:\\[\\]]+):([0-9]{1,5})/?");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?");
  private static final Pattern EXPECT = Pattern.compile("([1-5][0-9][0-9])(?:\\s*-\\s*([1-5][0-9][0-9]))?");

  private RemoteSection() {}

  /**
   * The tenant's {@code check}: {@code {tcp: true}} or {@code {http: /health, expect: 200-399}},
   * each with {@code interval}, {@code timeout}, {@code rise}, {@code fall} and {@code observe}
   * (passive checks); {@code false}
   * for none (members are always up); HAProxy's defaults when not given.
   */
  static HealthCheck readCheck(YamlReader yaml, Field f) {
    HealthCheck d = HealthCheck.defaults();
    if (f == null) {
      return d;
    }
    if (f.node() instanceof ScalarNode) {
      Boolean on = yaml.bool(f.node(), f.key());
      if (Boolean.FALSE.equals(on)) {
        return new HealthCheck(HealthCheck.Kind.NONE, null, 200, 399, d.interval(), d.timeout(), d.rise(), d.fall(),
            null);
      }
      if (on != null) {
        yaml.problem(f.node(), f.key(), "must be false, or a mapping such as {http: /health, interval: 2s, rise: 2, fall: 3}");
      }
      return d;
    }
    Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
    yaml.rejectUnknown(entries, f.key(), List.of("tcp", "http", "expect", "interval", "timeout", "rise", "fall",
        "observe"));
    HealthCheck.Kind kind = HealthCheck.Kind.TCP;
    String path = null;
    if (entries.containsKey("tcp") && entries.containsKey("http")) {
      yaml.problem(f.node(), f.key(), "name one check: tcp or http");
    }
    if (entries.containsKey("tcp")) {
      Boolean tcp = yaml.bool(entries.get("tcp").getValueNode(), f.key() + ".tcp");
      if (Boolean.FALSE.equals(tcp)) {
        yaml.problem(entries.get("tcp").getValueNode(), f.key() + ".tcp", "must be true (for no check, write check: false)");
      }
    }
    if (entries.containsKey("http")) {
      Node node = entries.get("http").getValueNode();
      path = yaml.string(node, f.key() + ".http");
      if (path != null && !path.startsWith("/")) {
        yaml.problem(node, f.key() + ".http", "must be a path such as /health");
      }
      kind = HealthCheck.Kind.HTTP;
    }
    int low = d.expectLow();
    int high = d.expectHigh();
    if (entries.containsKey("expect")) {
      Node node = entries.get("expect").getValueNode();
      String text = yaml.string(node, f.key() + ".expect");
      Matcher m = text == null ? null : EXPECT.matcher(text.trim());
      if (kind != HealthCheck.Kind.HTTP) {
        yaml.problem(node, f.key() + ".expect", "only applies to an http check");
      } else if (m != null && m.matches()) {
        low = Integer.parseInt(m.group(1));
        high = m.group(2) == null ? low : Integer.parseInt(m.group(2));
        if (high < low) {
          yaml.problem(node, f.key() + ".expect", "'" + text + "' is an empty range");
        }
      } else if (text != null) {
        yaml.problem(node, f.key() + ".expect", "must be a status such as 200 or a range such as 200-399, not '" + text + "'");
      }
    }
    Duration interval = positive(yaml, entries, f.key(), "interval", d.interval());
    // As HAProxy without `timeout check`: a check may take up to its interval.
    Duration timeout = positive(yaml, entries, f.key(), "timeout", interval);
    int rise = count(yaml, entries, f.key(), "rise", d.rise());
    int fall = count(yaml, entries, f.key(), "fall", d.fall());
    HealthCheck.Observe observe = readObserve(yaml, entries.get("observe"), f.key() + ".observe");
    return new HealthCheck(kind, path, low, high, interval, timeout, rise, fall, observe);
  }

  /**
   * The check's {@code observe}: {@code {errors: 3}} (connections refused, timed out or closed
   * before any answer) or {@code {errors: 3, 5xx: true}} (and answers 500-599); false or absent
   * for none. Needs no check of its own: the active check of the same mapping brings members back.
   */
  private static HealthCheck.Observe readObserve(YamlReader yaml, NodeTuple tuple, String key) {
    if (tuple == null) {
      return null;
    }
    Node node = tuple.getValueNode();
    String hint = "must be a mapping such as {errors: 3} or {errors: 3, 5xx: true}, or false";
    if (node instanceof ScalarNode) {
      Boolean on = yaml.bool(node, key);
      if (Boolean.TRUE.equals(on)) {
        yaml.problem(node, key, hint);
      }
      return null;
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, key);
    yaml.rejectUnknown(entries, key, List.of("errors", "5xx"));
    if (!entries.containsKey("errors")) {
      yaml.problem(node, key + ".errors", "is missing: how many consecutive errors in live traffic take a member "
          + "down, such as {errors: 3}");
      return null;
    }
    Integer errors = yaml.integer(entries.get("errors").getValueNode(), key + ".errors", 1, 100);
    boolean serverErrors = false;
    if (entries.containsKey("5xx")) {
      Boolean value = yaml.bool(entries.get("5xx").getValueNode(), key + ".5xx");
      serverErrors = Boolean.TRUE.equals(value);
    }
    return errors == null ? null : new HealthCheck.Observe(errors, serverErrors);
  }

  private static Duration positive(YamlReader yaml, Map<String, NodeTuple> entries, String key, String name,
      Duration fallback) {
    if (!entries.containsKey(name)) {
      return fallback;
    }
    Node node = entries.get(name).getValueNode();
    Duration value = yaml.duration(node, key + "." + name);
    if (value != null && value.toMillis() < 10) {
      yaml.problem(node, key + "." + name, "must be at least 10ms");
      return fallback;
    }
    return value == null ? fallback : value;
  }

  private static int count(YamlReader yaml, Map<String, NodeTuple> entries, String key, String name, int fallback) {
    if (!entries.containsKey(name)) {
      return fallback;
    }
    Integer value = yaml.integer(entries.get(name).getValueNode(), key + "." + name, 1, 100);
    return value == null ? fallback : value;
  }

  /**
   * A route's {@code address} ({@code host:port}, {@code https://host:port}) and its {@code tls}
   * ({@code {ca: file}} to trust that PEM file's certificates, {@code {verify: false}} to trust any):
   * the member, or null after a problem.
   */
  static RemoteMember readMember(YamlReader yaml, Node addressNode, String key, NodeTuple tls, Path baseDir,
      HealthCheck check) {
    String text = yaml.string(addressNode, key + ".address");
    if (text == null) {
      return null;
    }
    Matcher m = ADDRESS.matcher(text.trim());
    String hint = "must be host:port or https://host:port, such as 10.0.0.5:8080, not '" + text + "'";
    if (!m.matches()) {
      yaml.problem(addressNode, key + ".address", hint);
      return null;
    }
    String host = m.group(2);
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    } else if (!HOST.matcher(host).matches()) {
      yaml.problem(addressNode, key + ".address", hint);
      return null;
    }
    int port = Integer.parseInt(m.group(3));
    if (port < 1 || port > 65535) {
      yaml.problem(addressNode, key + ".address", "port " + port + " is not between 1 and 65535");
      return null;
    }
    boolean secure = "https".equals(m.group(1));
    Path ca = null;
    boolean verify = true;
    if (tls != null) {
      String tkey = key + ".tls";
      Map<String, NodeTuple> entries = yaml.mapping(tls.getValueNode(), tkey);
      yaml.rejectUnknown(entries, tkey, List.of("ca", "verify"));
      if (entries.containsKey("ca")) {
        String file = yaml.string(entries.get("ca").getValueNode(), tkey + ".ca");
        ca = file == null ? null : baseDir.resolve(file).normalize();
      }
      if (entries.containsKey("verify")) {
        Boolean v = yaml.bool(entries.get("verify").getValueNode(), tkey + ".verify");
        verify = !Boolean.FALSE.equals(v);
      }
      if (!secure && !entries.isEmpty()) {
        yaml.problem(tls.getValueNode(), tkey, "applies to an https:// address only; write address: https://" + text.trim());
      }
      if (ca != null && !verify) {
        yaml.problem(tls.getValueNode(), tkey, "give a ca to verify against, or verify: false, not both");
      }
    }
    return new RemoteMember(host, port, secure, ca, verify, check);
  }
}
