package io.wakeport.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One tenant of the map, with defaults applied and ports resolved. Command, workdir and env still
 * hold placeholders; {@link #launchSpec} substitutes them for one instance.
 *
 * @param hosts           lower-case host names, without port
 * @param paths           URL path tokens such as {@code /acme} (no trailing slash)
 * @param rules           per-path rules, the longest path first (so the first that matches wins); empty for most tenants
 * @param workdir         working directory template; relative values are relative to {@code baseDir}
 * @param baseDir         directory of the config file that defined the tenant
 * @param responseTimeout longest silence from a backend before the client gets 504
 * @param readiness       when a started instance counts as ready
 * @param policy          idle stop, stopping, backoff, queueing and logs
 * @param balancing       sticky sessions and balancing over several instances
 * @param stripPrefix     a request routed by a path token reaches the backend without it ({@code strip-prefix})
 * @param rewriting       how answers are pointed back at the client's address ({@code rewrite:})
 * @param template        set on a host-pattern template and on the tenants derived from it; else null
 * @param origins         where each key that set it was read, {@code file:line}: {@code tenants.<name>} for the
 *                        tenant itself, then {@code tenants.<name>.<key>} or {@code defaults.<key>} per key used
 * @param pages           its waiting page setting and its own pages ({@code waiting-page}, {@code pages})
 * @param registration    whether and how backends may register themselves as its members; null: they may not
 * @param placement       which cluster nodes may run its instances ({@code placement.labels})
 */
public record TenantConfig(
    String name,
    List<String> hosts,
    List<String> paths,
    List<PathRule> rules,
    List<String> command,
    String workdir,
    Map<String, String> env,
    List<InstanceConfig> instances,
    Duration startTimeout,
    Duration responseTimeout,
    Readiness readiness,
    SupervisionPolicy policy,
    Balancing balancing,
    boolean stripPrefix,
    ResponseRewriting rewriting,
    Template template,
    Path baseDir,
    Map<String, String> origins,
    TenantPages pages,
    RegistrationPolicy registration,
    PlacementPolicy placement) {

  public TenantConfig {
    hosts = List.copyOf(hosts);
    paths = List.copyOf(paths);
    rules = List.copyOf(rules);
    command = List.copyOf(command);
    env = Map.copyOf(env);
    instances = List.copyOf(instances);
    origins = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(origins));
  }

  /** The same tenant with its instances (ports resolved) set. */
  public TenantConfig withInstances(List<InstanceConfig> resolved) {
    return new TenantConfig(name, hosts, paths, rules, command, workdir, env, resolved, startTimeout, responseTimeout,
        readiness, policy, balancing, stripPrefix, rewriting, template, baseDir, origins, pages, registration,
        placement);
  }

  /** A host-pattern template (not itself a tenant that requests reach). */
  public boolean isTemplate() {
    return template != null && template.label() == null;
  }

  /** The tenant this template makes for {@code label}, served at {@code host}, on {@code instances}. */
  public TenantConfig derive(String label, String host, List<InstanceConfig> resolved) {
    return new TenantConfig(label, List.of(host), List.of(), List.of(), command, workdir, env, resolved, startTimeout,
        responseTimeout, readiness, policy, balancing, false, rewriting,
        template.forLabel(label), baseDir, origins, pages, null, placement);
  }

  /**
   * What its instances' state files and keys are named after: the tenant name, or for a tenant
   * derived from a template {@code <template>+<label>}, so the same label under two templates is
   * two tenants and a label never meets a configured tenant's files ('+' is in no tenant name).
   */
  public String stateName() {
    return template != null && template.label() != null ? template.name() + "+" + name : name;
  }

  /**
   * The file name stem of {@code route}'s log and pid file: {@link #stateName}, and for a route
   * {@code <stateName>@<route>} ('@' is in no tenant or route name, so no two instances share one).
   */
  public String fileStem(String route) {
    return route.isEmpty() ? stateName() : stateName() + "@" + route;
  }

  /** The instance serving {@code route}, or null. */
  public InstanceConfig instance(String route) {
    for (InstanceConfig instance : instances) {
      if (instance.route().equals(route)) {
        return instance;
      }
    }
    return null;
  }

  public LaunchSpec launchSpec(InstanceConfig instance) {
    Map<String, String> values = Map.of(
        "tenant", name, "port", Integer.toString(instance.port()), "route", instance.route());
    Path dir = baseDir.resolve(Placeholders.substitute(workdir, values)).normalize();
    List<String> argv = new ArrayList<>(command.size());
    for (String arg : command) {
      argv.add(Placeholders.substitute(arg, values));
    }
    // ProcessBuilder resolves a relative program against wakeport's own cwd, not the child's:
    // resolve it against the workdir so configs behave the same wherever wakeport is started.
    String program = argv.get(0);
    if (program.contains("/") && !Path.of(program).isAbsolute()) {
      argv.set(0, dir.resolve(program).normalize().toString());
    }
    Map<String, String> childEnv = new LinkedHashMap<>();
    env.forEach((k, v) -> childEnv.put(k, Placeholders.substitute(v, values)));
    childEnv.put("PORT", Integer.toString(instance.port()));
    childEnv.put("WAKEPORT_TENANT", name);
    if (!instance.route().isEmpty()) {
      childEnv.put("WAKEPORT_ROUTE", instance.route());
    }
    return new LaunchSpec(List.copyOf(argv), dir, Map.copyOf(childEnv));
  }
}
