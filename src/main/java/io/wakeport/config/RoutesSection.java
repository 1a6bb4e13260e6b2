package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads how a tenant's requests reach its instances: when an instance is ready ({@code ready}),
 * the instances themselves ({@code instances} or {@code routes}), and how sessions stick to and
 * are balanced over them ({@code sticky}, {@code balance}, {@code busy-target}, {@code failover}).
 */
final class RoutesSection {

  private static final Pattern ROUTE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,32}");

  /** A route as read: its port is fixed, or null to be assigned from the range; remote for another machine's. */
  record RouteDraft(String route, Integer port, int weight, boolean disabled, boolean standby, RemoteMember remote) {
    RouteDraft(String route, Integer port, int weight, boolean disabled, boolean standby) {
      this(route, port, weight, disabled, standby, null);
    }
  }

  private final YamlReader yaml;
  private final Map<String, Field> fields;

  private RoutesSection(YamlReader yaml, Map<String, Field> fields) {
    this.yaml = yaml;
    this.fields = fields;
  }

  static Readiness readReadiness(YamlReader yaml, Map<String, Field> fields) {
    return new RoutesSection(yaml, fields).readiness(fields.get("ready"));
  }

  static List<RouteDraft> readRoutes(YamlReader yaml, Map<String, Field> fields, KernelPorts kernel, java.nio.file.Path baseDir) {
    return new RoutesSection(yaml, fields).routes(kernel, baseDir);
  }

  static Balancing readBalancing(YamlReader yaml, Map<String, Field> fields) {
    return new RoutesSection(yaml, fields).balancing();
  }

  private Readiness readiness(Field f) {
    if (f == null) {
      return Readiness.tcp();
    }
    if (f.node() instanceof org.yaml.snakeyaml.nodes.ScalarNode) {
      String value = yaml.string(f.node(), f.key());
      if (!"tcp".equals(value)) {
        yaml.problem(f.node(), f.key(), "must be tcp, or a mapping with one of tcp: true, http: /path, log: regex (and settle)");
      }
      return Readiness.tcp();
    }
    Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
    yaml.rejectUnknown(entries, f.key(), List.of("tcp", "http", "log", "settle"));
    List<String> kinds = entries.keySet().stream().filter(k -> !k.equals("settle")).toList();
    if (kinds.size() != 1) {
      yaml.problem(f.node(), f.key(), "must name exactly one check: tcp, http or log");
      return Readiness.tcp();
    }
    Duration settle = entries.containsKey("settle")
        ? yaml.duration(entries.get("settle").getValueNode(), f.key() + ".settle") : Duration.ZERO;
    settle = settle == null ? Duration.ZERO : settle;
    String kind = kinds.get(0);
    Node value = entries.get(kind).getValueNode();
    String text = yaml.string(value, f.key() + "." + kind);
    if (text == null) {
      return Readiness.tcp();
    }
    switch (kind) {
      case "http":
        if (!text.startsWith("/")) {
          yaml.problem(value, f.key() + ".http", "must be a path such as /health");
        }
        return new Readiness(Readiness.Kind.HTTP, text, null, settle);
      case "log":
        try {
          return new Readiness(Readiness.Kind.LOG, null, Pattern.compile(text), settle);
        } catch (java.util.regex.PatternSyntaxException e) {
          yaml.problem(value, f.key() + ".log", "is not a valid regular expression: " + e.getDescription());
          return Readiness.tcp();
        }
      default:
        return new Readiness(Readiness.Kind.TCP, null, null, settle);
    }
  }

  private List<RouteDraft> routes(KernelPorts kernel, java.nio.file.Path baseDir) {
    Field instances = fields.get("instances");
    Field routes = fields.get("routes");
    List<RouteDraft> drafts = new ArrayList<>();
    if (instances != null && routes != null) {
      yaml.problem(routes.node(), routes.key(), "give either instances or routes, not both");
      return drafts;
    }
    if (instances != null) {
      Integer n = yaml.integer(instances.node(), instances.key(), 1, 64);
      for (int i = 1; n != null && i <= n; i++) {
        drafts.add(new RouteDraft(Integer.toString(i), null, 1, false, false));
      }
      return drafts;
    }
    if (routes == null) {
      return drafts;
    }
    if (routes.node() instanceof org.yaml.snakeyaml.nodes.SequenceNode) {
      for (String route : yaml.stringList(routes.node(), routes.key())) {
        drafts.add(new RouteDraft(route, null, 1, false, false));
      }
    } else {
      HealthCheck check = null;
      for (Map.Entry<String, NodeTuple> e : yaml.mapping(routes.node(), routes.key()).entrySet()) {
        String rkey = routes.key() + "." + e.getKey();
        Node value = e.getValue().getValueNode();
        Map<String, NodeTuple> entries = value instanceof org.yaml.snakeyaml.nodes.ScalarNode sc
            && sc.getTag().equals(org.yaml.snakeyaml.nodes.Tag.NULL) ? Map.of() : yaml.mapping(value, rkey);
        yaml.rejectUnknown(entries, rkey, List.of("port", "address", "tls", "weight", "disabled", "standby"));
        RemoteMember remote = null;
        if (entries.containsKey("address")) {
          if (entries.containsKey("port")) {
            yaml.problem(entries.get("port").getKeyNode(), rkey + ".port",
                "a route is either started here (port) or served elsewhere (address), not both");
          }
          check = check != null ? check : RemoteSection.readCheck(yaml, fields.get("check"));
          remote = RemoteSection.readMember(yaml, entries.get("address").getValueNode(), rkey, entries.get("tls"), baseDir,
              check);
          if (remote == null) {
            // Its problem is told; still a remote route, so no second one asks it for a command.
            remote = new RemoteMember("unreadable", 1, false, null, true, check);
          }
        } else if (entries.containsKey("tls")) {
          yaml.problem(entries.get("tls").getKeyNode(), rkey + ".tls", "applies to a route with an address only");
        }
        Integer port = entries.containsKey("port")
            ? yaml.integer(entries.get("port").getValueNode(), rkey + ".port", 1, 65535) : null;
        if (port != null) {
          PortsSection.warnIfEphemeral(yaml, kernel, entries.get("port").getValueNode(), rkey + ".port", port, port, "");
        }
        Integer weight = entries.containsKey("weight")
            ? yaml.integer(entries.get("weight").getValueNode(), rkey + ".weight", 1, 100) : null;
        Boolean disabled = entries.containsKey("disabled")
            ? yaml.bool(entries.get("disabled").getValueNode(), rkey + ".disabled") : null;
        Boolean standby = entries.containsKey("standby")
            ? yaml.bool(entries.get("standby").getValueNode(), rkey + ".standby") : null;
        drafts.add(new RouteDraft(e.getKey(), remote != null ? null : port, weight == null ? 1 : weight,
            Boolean.TRUE.equals(disabled), Boolean.TRUE.equals(standby), remote));
      }
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (RouteDraft d : drafts) {
      if (!ROUTE_NAME.matcher(d.route()).matches()) {
        yaml.problem(routes.node(), routes.key(), "route '" + d.route() + "' must match [A-Za-z0-9_-]{1,32} (no dots: "
            + "the route is what follows the last dot of a session id)");
      }
      if (!seen.add(d.route())) {
        yaml.problem(routes.node(), routes.key(), "route '" + d.route() + "' is given twice");
      }
    }
    if (drafts.isEmpty()) {
      yaml.problem(routes.node(), routes.key(), "must name at least one route");
    }
    return drafts;
  }

  private Balancing balancing() {
    Balancing d = Balancing.defaults();
    String cookie = null;
    String param = null;
    Pattern pattern = null;
    String insert = null;
    Field f = fields.get("sticky");
    if (f != null) {
      Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
      yaml.rejectUnknown(entries, f.key(), List.of("cookie", "param", "route-pattern", "insert-cookie"));
      cookie = entries.containsKey("cookie") ? yaml.string(entries.get("cookie").getValueNode(), f.key() + ".cookie") : null;
      param = entries.containsKey("param") ? yaml.string(entries.get("param").getValueNode(), f.key() + ".param") : null;
      insert = entries.containsKey("insert-cookie")
          ? yaml.string(entries.get("insert-cookie").getValueNode(), f.key() + ".insert-cookie") : null;
      if (entries.containsKey("route-pattern")) {
        Node node = entries.get("route-pattern").getValueNode();
        String regex = yaml.string(node, f.key() + ".route-pattern");
        try {
          pattern = regex == null ? null : Pattern.compile(regex);
          if (pattern != null && pattern.matcher("").groupCount() != 1) {
            yaml.problem(node, f.key() + ".route-pattern", "must have exactly one group, the route, such as '!(.*)$'");
          }
        } catch (java.util.regex.PatternSyntaxException e) {
          yaml.problem(node, f.key() + ".route-pattern", "is not a valid regular expression: " + e.getDescription());
        }
      }
      if (insert != null && cookie != null && insert.equals(cookie)) {
        yaml.problem(f.node(), f.key(), "insert-cookie and cookie name the same cookie: choose one");
      }
      if (cookie == null && param == null && insert == null) {
        yaml.problem(f.node(), f.key(), "must name a cookie, a param or an insert-cookie");
      }
    }
    Balancing.Method method = d.method();
    f = fields.get("balance");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if (text != null) {
        switch (text.toLowerCase(Locale.ROOT)) {
          case "requests", "byrequests" -> method = Balancing.Method.REQUESTS;
          case "busyness", "bybusyness" -> method = Balancing.Method.BUSYNESS;
          case "latency", "response-time" -> method = Balancing.Method.LATENCY;
          default -> yaml.problem(f.node(), f.key(), "must be requests, busyness or latency, not '" + text + "'");
        }
      }
    }
    int busyTarget = d.busyTarget();
    f = fields.get("busy-target");
    if (f != null) {
      Integer n = yaml.integer(f.node(), f.key(), 0, 100_000);
      busyTarget = n != null ? n : busyTarget;
    }
    boolean failover = d.failover();
    f = fields.get("failover");
    if (f != null) {
      Boolean b = yaml.bool(f.node(), f.key());
      failover = b != null ? b : failover;
    }
    return new Balancing(cookie, param, pattern, insert, method, busyTarget, failover);
  }
}
