package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import io.wakeport.config.ConfigLoader.TenantDraft;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a tenant's {@code rules}: per-path prefixes served by another tenant or by some of the
 * tenant's own routes. What one tenant's entry can tell is checked as it is read; which tenants a
 * rule may name is checked once every tenant is read ({@link #checkTargets}).
 */
final class RulesSection {

  /** Path characters a prefix may hold: no '%' (prefixes are matched on the path as sent), no '?', '#' or '\'. */
  private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~!$&'()*+,=:@-]*)+");

  /** A rule as read, with where it was written (its tenant's line), for the problems found once every tenant is read. */
  record RuleDraft(PathRule rule, ConfigProblem at) {}

  private RulesSection() {}

  /** {@code tenant}'s rules, or an empty list; problems are recorded in {@code yaml}. */
  static List<RuleDraft> read(YamlReader yaml, String tenant, Map<String, Field> fields, List<RouteDraft> routes) {
    Field f = fields.get("rules");
    List<RuleDraft> rules = new ArrayList<>();
    if (f == null) {
      return rules;
    }
    if (!(f.node() instanceof SequenceNode list)) {
      yaml.problem(f.node(), f.key(), "must be a list of rules, such as [{path: /static/, tenant: media}]");
      return rules;
    }
    Set<String> routeNames = new HashSet<>();
    routes.forEach(r -> routeNames.add(r.route()));
    Map<String, String> seen = new HashMap<>();
    for (int i = 0; i < list.getValue().size(); i++) {
      Node node = list.getValue().get(i);
      String key = f.key() + "[" + i + "]";
      Map<String, NodeTuple> entries = yaml.mapping(node, key);
      yaml.rejectUnknown(entries, key, List.of("path", "tenant", "routes", "to"));
      String path = prefix(yaml, entries, key, "path");
      String to = prefix(yaml, entries, key, "to");
      if (!entries.containsKey("path")) {
        yaml.problem(node, key + ".path", "is missing: say which path prefix the rule serves, such as /static/");
      }
      if (path != null && to != null && path.endsWith("/") != to.endsWith("/")) {
        yaml.problem(entries.get("to").getValueNode(), key + ".to",
            "must end with / exactly when path does ('" + path + "' → '" + to + "'), or the mapped paths run together");
      }
      if (path != null) {
        String earlier = seen.putIfAbsent(path, key);
        if (earlier != null) {
          yaml.problem(entries.get("path").getValueNode(), key + ".path", "'" + path + "' is already the path of " + earlier);
        }
      }
      NodeTuple target = entries.get("tenant");
      NodeTuple subset = entries.get("routes");
      if ((target == null) == (subset == null)) {
        yaml.problem(node, key, "must name exactly one of tenant (another tenant serves the path) "
            + "or routes (some of this tenant's own instances serve it)");
        continue;
      }
      String other = null;
      List<String> chosen = List.of();
      if (target != null) {
        other = yaml.string(target.getValueNode(), key + ".tenant");
        if (tenant.equals(other)) {
          yaml.problem(target.getValueNode(), key + ".tenant",
              "is this tenant itself: use routes: [...] to send the path to some of its own instances");
        }
      } else {
        chosen = yaml.strictList(subset.getValueNode(), key + ".routes", ", such as [b, c]");
        Set<String> once = new HashSet<>();
        for (String route : chosen) {
          if (!routeNames.contains(route)) {
            yaml.problem(subset.getValueNode(), key + ".routes", "'" + route + "' is not a route of tenant " + tenant
                + (routeNames.isEmpty() ? " (it has one instance and no routes)" : " (its routes: "
                    + String.join(", ", routes.stream().map(RouteDraft::route).toList()) + ")"));
          } else if (!once.add(route)) {
            yaml.problem(subset.getValueNode(), key + ".routes", "'" + route + "' is given twice");
          }
        }
        if (chosen.isEmpty() && subset.getValueNode() instanceof SequenceNode) {
          yaml.problem(subset.getValueNode(), key + ".routes", "must name at least one route");
        }
      }
      if (path != null && (other != null || !chosen.isEmpty())) {
        // Problems found later point at the tenant it names.
        ConfigProblem at = target != null ? yaml.at(target.getValueNode(), key + ".tenant", "") : yaml.at(node, key, "");
        rules.add(new RuleDraft(new PathRule(path, other, chosen, to), at));
      }
    }
    return rules;
  }

  /** A prefix given at {@code name}: {@code /} and whole path segments, no dot segments, no empty ones. */
  private static String prefix(YamlReader yaml, Map<String, NodeTuple> entries, String key, String name) {
    NodeTuple t = entries.get(name);
    if (t == null) {
      return null;
    }
    String value = yaml.string(t.getValueNode(), key + "." + name);
    if (value == null) {
      return null;
    }
    if (!value.startsWith("/")) {
      yaml.problem(t.getValueNode(), key + "." + name, "'" + value + "' must start with /");
      return null;
    }
    if (!PREFIX.matcher(value).matches() || value.contains("//")
        || (value + "/").contains("/./") || (value + "/").contains("/../")) {
      yaml.problem(t.getValueNode(), key + "." + name, "'" + value + "' is not a path prefix such as /static/ or /api "
          + "(letters, digits and -._~!$&'()*+,=:@ between single slashes; no . or .. segments, no %, ? or #)");
      return null;
    }
    return value;
  }

  /**
   * What only the whole map can tell: a rule's tenant is configured, is no template, and has no
   * rule of its own that sends requests back (rules are not chained, so such a pair would not
   * loop, but it would not do what it seems to say either).
   *
   * @param defined every tenant name of the map, those whose entries had problems too (no second problem for them)
   */
  static List<ConfigProblem> checkTargets(List<TenantDraft> drafts, Set<String> defined) {
    Map<String, TenantDraft> byName = new HashMap<>();
    drafts.forEach(d -> byName.put(d.config().name(), d));
    List<ConfigProblem> problems = new ArrayList<>();
    for (TenantDraft d : drafts) {
      String name = d.config().name();
      for (RuleDraft r : d.rules()) {
        String target = r.rule().tenant();
        if (target == null) {
          continue;
        }
        TenantDraft other = byName.get(target);
        String message = null;
        if (other == null) {
          message = defined.contains(target) ? null : "'" + target + "' is not a configured tenant";
        } else if (other.config().isTemplate()) {
          message = "'" + target + "' is a template: a rule names one configured tenant, which serves the path itself";
        } else if (other.rules().stream().anyMatch(back -> name.equals(back.rule().tenant()))) {
          message = "tenant " + target + " has a rule of its own that sends requests back to " + name
              + ": rules are not chained (a rule's tenant serves the path with its own instances, its rules unused)";
        }
        if (message != null) {
          problems.add(new ConfigProblem(r.at().file(), r.at().line(), r.at().key(), message));
        }
      }
    }
    return problems;
  }
}
