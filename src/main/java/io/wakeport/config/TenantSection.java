package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import io.wakeport.config.ConfigLoader.TenantDraft;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads the {@code tenants:} of a file into drafts: each tenant's own keys over the inherited
 * {@code defaults:}, validated, before ports from ranges are assigned ({@link PortsSection}).
 */
final class TenantSection {

  private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?");
  private static final Pattern PATH_TOKEN = Pattern.compile("(/[A-Za-z0-9._~!$&'()*+,=:@%-]+)+");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private static final List<String> TENANT_KEYS = List.of(
      "hosts", "paths", "command", "check", "workdir", "env", "port", "ports", "start-timeout", "response-timeout",
      "ready", "idle-timeout", "ignore", "stop-signal", "stop-grace", "backoff", "max-queue", "queue-timeout",
      "min-running", "log-max-size", "instances", "routes", "sticky", "balance", "busy-target", "failover", "on-change",
      "exists", "max-tenants", "release-after", "limits", "foreign-listener", "rules", "strip-prefix", "rewrite",
      "pages", "waiting-page", "registration", "placement");

  /** Keys that identify one tenant and so cannot be inherited from defaults. */
  private static final List<String> OWN_KEYS = List.of("hosts", "paths", "port", "routes", "exists", "max-tenants",
      "release-after", "rules", "strip-prefix", "registration");
  /** Tenant keys whose value for all tenants is set at the root, not under defaults: the root's {@code pages:}. */
  private static final List<String> ROOT_WIDE_KEYS = List.of("pages");
  /** How long a template's tenant is stopped and unused before its port and slot are given back. */
  static final Duration DEFAULT_RELEASE_AFTER = Duration.ofMinutes(10);

  private static final String DEFAULT_PORTS = "20000-29999";
  private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(60);

  private TenantSection() {}

  /** The tenant keys {@code defaults:} may set: not those naming one tenant, not those set at the root. */
  static List<String> defaultableKeys() {
    return TENANT_KEYS.stream().filter(k -> !OWN_KEYS.contains(k) && !ROOT_WIDE_KEYS.contains(k)).toList();
  }

  static void read(YamlReader yaml, NodeTuple tenantsTuple, Map<String, NodeTuple> defaults,
      Path baseDir, List<TenantDraft> drafts, Map<String, String> definedAt, KernelPorts kernel) {
    for (Map.Entry<String, NodeTuple> e : yaml.mapping(tenantsTuple.getValueNode(), "tenants").entrySet()) {
      String where = yaml.file() + ":" + (e.getValue().getKeyNode().getStartMark().getLine() + 1);
      String earlier = definedAt.putIfAbsent(e.getKey(), where);
      if (earlier != null) {
        yaml.problem(e.getValue().getKeyNode(), "tenants." + e.getKey(), "is already defined at " + earlier);
        continue;
      }
      TenantDraft draft = readTenant(yaml, e.getKey(), e.getValue(), defaults, baseDir, kernel);
      if (draft != null) drafts.add(draft);
    }
  }

  private static TenantDraft readTenant(
      YamlReader yaml, String name, NodeTuple tuple, Map<String, NodeTuple> defaults, Path baseDir, KernelPorts kernel) {
    String key = "tenants." + name;
    if (!ConfigLoader.TENANT_NAME.matcher(name).matches()) {
      yaml.problem(tuple.getKeyNode(), key,
          "tenant names must match [a-z0-9][a-z0-9-]* (at most 63 characters): they are used in file names and commands");
      return null;
    }
    Map<String, NodeTuple> own = yaml.mapping(tuple.getValueNode(), key);
    yaml.rejectUnknown(own, key, TENANT_KEYS);
    // A tenant's own value wins over the inherited default; problems point at whichever was used.
    Map<String, Field> fields = new HashMap<>();
    for (String k : TENANT_KEYS) {
      NodeTuple t = own.get(k);
      if (t != null) {
        fields.put(k, new Field(t.getValueNode(), key + "." + k));
      } else if (defaults.containsKey(k)) {
        fields.put(k, new Field(defaults.get(k).getValueNode(), "defaults." + k));
      }
    }
    int before = yamlProblemCount(yaml);

    List<String> hosts = new ArrayList<>();
    List<String> patterns = new ArrayList<>();
    Field f = fields.get("hosts");
    if (f != null) {
      for (String host : yaml.stringList(f.node(), f.key())) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("*.") && HOST_NAME.matcher(h.substring(2)).matches()) {
          patterns.add(h.substring(2));
        } else if (!HOST_NAME.matcher(h).matches()) {
          yaml.problem(f.node(), f.key(), "'" + host + "' is not a host name (write it without scheme, port or path)");
        } else {
          hosts.add(h);
        }
      }
    }
    List<String> paths = new ArrayList<>();
    f = fields.get("paths");
    if (f != null) {
      for (String p : yaml.stringList(f.node(), f.key())) {
        String token = p.endsWith("/") && p.length() > 1 ? p.substring(0, p.length() - 1) : p;
        if (!PATH_TOKEN.matcher(token).matches()) {
          yaml.problem(f.node(), f.key(), "'" + p + "' is not a path token such as /acme");
        } else {
          paths.add(token);
        }
      }
    }
    Template template = null;
    if (!patterns.isEmpty()) {
      if (!hosts.isEmpty() || !paths.isEmpty()) {
        yaml.problem(fields.get("hosts").node(), fields.get("hosts").key(),
            "a template (a host pattern such as *.apps.example.com) has only patterns: no plain hosts, no paths");
      }
      String exists = null;
      Field e = fields.get("exists");
      if (e != null) {
        exists = yaml.string(e.node(), e.key());
        if (exists != null) {
          checkPlaceholders(yaml, e.node(), e.key(), exists);
        }
      }
      int maxTenants = 0;
      Field m = fields.get("max-tenants");
      if (m != null) {
        Integer value = yaml.integer(m.node(), m.key(), 1, 1_000_000);
        maxTenants = value == null ? 0 : value;
      } else if (e == null) {
        // Every valid label would be a tenant: a flood of made-up hosts would start a process each.
        yaml.problem(tuple.getKeyNode(), key + ".max-tenants",
            "is missing: a template without exists must bound its tenants; add max-tenants: N (how many labels it may "
                + "serve at once) or exists: /srv/customers/${tenant} (which labels are tenants)");
      }
      Duration releaseAfter = DEFAULT_RELEASE_AFTER;
      Field r = fields.get("release-after");
      if (r != null) {
        String text = yaml.string(r.node(), r.key());
        if ("never".equals(text)) {
          releaseAfter = Duration.ZERO;
        } else if (text != null) {
          Duration parsed = yaml.duration(r.node(), r.key());
          releaseAfter = parsed != null ? parsed : releaseAfter;
        }
      }
      template = new Template(name, patterns, exists, maxTenants, releaseAfter, null, 0, -1);
    } else if (hosts.isEmpty() && paths.isEmpty()) {
      yaml.problem(tuple.getKeyNode(), key, "has neither hosts nor paths, so no request could reach it");
    } else {
      for (String only : List.of("exists", "max-tenants", "release-after")) {
        if (fields.get(only) != null) {
          yaml.problem(fields.get(only).node(), fields.get(only).key(), "only applies to a template (hosts: [\"*.example.com\"])");
        }
      }
    }

    List<String> command = List.of();
    f = fields.get("command");
    if (f == null) {
      // Told once the routes are read: a tenant whose routes all have an address starts nothing.
    } else {
      command = yaml.strictList(f.node(), f.key(),
          " (argv), such as [launch-scripts/run-image.sh, \"${tenant}\", \"${port}\"]; use [sh, -c, \"...\"] for a shell");
      if (f.node() instanceof org.yaml.snakeyaml.nodes.SequenceNode && (command.isEmpty() || command.get(0).isBlank())) {
        yaml.problem(f.node(), f.key(), "must name a program to run");
      }
      for (String arg : command) {
        checkPlaceholders(yaml, f.node(), f.key(), arg);
      }
    }

    String workdir = ".";
    f = fields.get("workdir");
    if (f != null) {
      String value = yaml.string(f.node(), f.key());
      if (value != null) {
        checkPlaceholders(yaml, f.node(), f.key(), value);
        workdir = value;
      }
    }

    Map<String, String> env = Map.of();
    f = fields.get("env");
    if (f != null) {
      env = yaml.stringMap(f.node(), f.key());
      for (Map.Entry<String, String> e : env.entrySet()) {
        if (!ENV_NAME.matcher(e.getKey()).matches()) {
          yaml.problem(f.node(), f.key() + "." + e.getKey(), "is not a valid environment variable name");
        }
        checkPlaceholders(yaml, f.node(), f.key() + "." + e.getKey(), e.getValue());
      }
    }

    Integer fixedPort = null;
    f = fields.get("port");
    if (f != null) {
      fixedPort = yaml.integer(f.node(), f.key(), 1, 65535);
    }
    int[] range = {0, -1};
    f = fields.get("ports");
    String rangeText = DEFAULT_PORTS;
    Node rangeNode = null;
    if (f != null) {
      rangeText = yaml.string(f.node(), f.key());
      rangeNode = f.node();
    }
    if (rangeText != null) {
      range = PortsSection.parseRange(yaml, rangeNode, f == null ? "defaults.ports" : f.key(), rangeText);
    }

    Duration startTimeout = durationField(yaml, fields.get("start-timeout"), DEFAULT_START_TIMEOUT);
    Duration responseTimeout = durationField(yaml, fields.get("response-timeout"), DEFAULT_RESPONSE_TIMEOUT);
    Readiness readiness = RoutesSection.readReadiness(yaml, fields);
    SupervisionPolicy policy = SupervisionSection.read(yaml, fields);
    List<RouteDraft> routes = RoutesSection.readRoutes(yaml, fields, kernel, baseDir);
    RegistrationPolicy registration = RegistrationSection.read(yaml, fields.get("registration"), fields.get("check"),
        routes, template != null);
    RemoteRoutes.check(yaml, tuple, key, fields, routes, template != null, registration != null && template == null);
    Balancing balancing = RoutesSection.readBalancing(yaml, fields);
    List<RulesSection.RuleDraft> rules = RulesSection.read(yaml, name, fields, routes);
    if (template != null && fields.get("rules") != null) {
      yaml.problem(fields.get("rules").node(), fields.get("rules").key(), "a template's tenants have no rules");
    }
    boolean stripPrefix = RewriteSection.readStripPrefix(yaml, fields, paths);
    ResponseRewriting rewriting = RewriteSection.read(yaml, fields.get("rewrite"));
    Field placementField = fields.get("placement");
    PlacementPolicy placement = placementField == null ? PlacementPolicy.ANYWHERE
        : PlacementSection.read(yaml, placementField.node(), placementField.key());
    Field waiting = fields.get("waiting-page");
    Field ownPages = fields.get("pages");
    TenantPages pages = new TenantPages(
        PagesSection.readWaiting(yaml, waiting == null ? null : waiting.node(), waiting == null ? null : waiting.key()),
        PagesSection.readPages(yaml, ownPages == null ? null : ownPages.node(), ownPages == null ? null : ownPages.key()));
    if (!routes.isEmpty() && fixedPort != null) {
      yaml.problem(fields.get("port").node(), fields.get("port").key(),
          "a tenant with several instances gives each route its own port (routes: {first: {port: 8881}})");
    }
    int instanceCount = Math.max(1, routes.size());
    if (policy.minRunning() > instanceCount && fields.get("min-running") != null) {
      yaml.problem(fields.get("min-running").node(), fields.get("min-running").key(),
          "is " + policy.minRunning() + " but the tenant has only " + instanceCount + " instance(s)");
    }

    if (template != null) {
      template = template.withRange(range[0], range[1]);
    }
    if (template != null && fixedPort != null) {
      yaml.problem(fields.get("port").node(), fields.get("port").key(),
          "a template's tenants take their ports from the range, one each");
    }
    if (yamlProblemCount(yaml) > before) {
      return null;
    }
    if (fixedPort != null) {
      PortsSection.warnIfEphemeral(yaml, kernel, fields.get("port").node(), fields.get("port").key(), fixedPort, fixedPort, "");
    } else if (routes.isEmpty() || routes.stream().anyMatch(r -> r.port() == null && r.remote() == null)) {
      // Only a range that hands out ports is worth a warning.
      Field ports = fields.get("ports");
      if (ports != null) {
        PortsSection.warnIfEphemeral(yaml, kernel, ports.node(), ports.key(), range[0], range[1], "");
      } else {
        PortsSection.warnIfEphemeral(yaml, kernel, tuple.getKeyNode(), key + ".ports", range[0], range[1], " (the built-in default)");
      }
    }
    Map<String, String> origins = new LinkedHashMap<>();
    origins.put(key, origin(yaml, tuple.getKeyNode()));
    fields.values().stream().sorted(java.util.Comparator.comparing(Field::key))
        .forEach(field -> origins.put(field.key(), origin(yaml, field.node())));
    // Longest path first: the first rule that matches a request is the longest prefix.
    List<PathRule> byLength = rules.stream().map(RulesSection.RuleDraft::rule)
        .sorted(java.util.Comparator.comparingInt((PathRule r) -> r.path().length()).reversed()).toList();
    TenantConfig config = new TenantConfig(name, hosts, paths, byLength, command, workdir, env,
        List.of(), startTimeout, responseTimeout, readiness, policy, balancing, stripPrefix, rewriting, template, baseDir,
        origins, pages, registration, placement);
    return new TenantDraft(config, tuple.getKeyNode(), fixedPort, routes, rules, range[0], range[1]);
  }

  /** Where {@code node} was read, as {@code file:line}. */
  private static String origin(YamlReader yaml, Node node) {
    ConfigProblem at = yaml.at(node, "", "");
    return at.file() + ":" + at.line();
  }

  private static int yamlProblemCount(YamlReader yaml) {
    return yaml.problemCount();
  }

  private static Duration durationField(YamlReader yaml, Field f, Duration fallback) {
    if (f == null) return fallback;
    Duration d = yaml.duration(f.node(), f.key());
    if (d != null && d.isZero()) {
      yaml.problem(f.node(), f.key(), "must be longer than 0");
    }
    return d != null ? d : fallback;
  }

  private static void checkPlaceholders(YamlReader yaml, Node node, String key, String value) {
    for (String unknown : Placeholders.unknown(value)) {
      yaml.problem(node, key, "unknown placeholder ${" + unknown + "} (known: "
          + String.join(", ", Placeholders.NAMES.stream().map(n -> "${" + n + "}").toList()) + ")");
    }
  }

  /** Hosts, paths and fixed ports each belong to one tenant only. */
  static void checkUnique(YamlReader yaml, List<TenantDraft> drafts, int listenPort) {
    Map<String, String> hostOwner = new HashMap<>();
    Map<String, String> pathOwner = new HashMap<>();
    Map<Integer, String> portOwner = new HashMap<>();
    for (TenantDraft d : drafts) {
      String name = d.config().name();
      List<String> hostsAndPatterns = new ArrayList<>(d.config().hosts());
      if (d.config().template() != null) {
        d.config().template().suffixes().forEach(sfx -> hostsAndPatterns.add("*." + sfx));
      }
      for (String host : hostsAndPatterns) {
        String other = hostOwner.putIfAbsent(host, name);
        if (other != null && !other.equals(name)) {
          yaml.problem(d.node(), "tenants." + name + ".hosts", "host " + host + " is already mapped to tenant " + other);
        }
      }
      for (String p : d.config().paths()) {
        String other = pathOwner.putIfAbsent(p, name);
        if (other != null && !other.equals(name)) {
          yaml.problem(d.node(), "tenants." + name + ".paths", "path " + p + " is already mapped to tenant " + other);
        }
      }
      List<Integer> fixed = new ArrayList<>();
      if (d.fixedPort() != null) {
        fixed.add(d.fixedPort());
      }
      d.routes().forEach(r -> { if (r.port() != null) fixed.add(r.port()); });
      for (int port : fixed) {
        if (port == listenPort) {
          yaml.problem(d.node(), "tenants." + name + ".port", "port " + listenPort + " is wakeport's own listen port");
        }
        String other = portOwner.putIfAbsent(port, name);
        if (other != null) {
          yaml.problem(d.node(), "tenants." + name + ".port", "port " + port + " is already used by tenant " + other);
        }
      }
    }
  }
}
