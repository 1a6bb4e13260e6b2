package io.wakeport.config;

import io.wakeport.config.ConfigLoader.TenantDraft;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Tenants' ports: a {@code ports} range as written, warnings where a range or port lies in the
 * kernel's ephemeral range, and the assignment of ports from ranges, remembered in the state dir
 * ({@link PortAssignments}).
 */
final class PortsSection {

  private PortsSection() {}

  static int[] parseRange(YamlReader yaml, Node node, String key, String text) {
    String[] parts = text.trim().split("\\s*-\\s*");
    try {
      int first = Integer.parseInt(parts[0]);
      int last = parts.length == 2 ? Integer.parseInt(parts[1]) : first;
      if (parts.length > 2 || first < 1 || last > 65535 || first > last) throw new NumberFormatException();
      return new int[] {first, last};
    } catch (NumberFormatException e) {
      yaml.problem(node, key, "must be a port range such as 20000-20999, not '" + text + "'");
      return new int[] {0, -1};
    }
  }

  /**
   * A port the kernel may give an outgoing connection can be taken when the backend starts, which
   * then fails to bind: worth a warning, not an error (the port may well be free).
   */
  static void warnIfEphemeral(YamlReader yaml, KernelPorts kernel, Node node, String key, int first, int last,
      String note) {
    int[] overlap = kernel == null ? null : kernel.overlap(first, last);
    if (overlap == null) {
      return;
    }
    String range = "the kernel's ephemeral port range " + kernel.range() + " (net.ipv4.ip_local_port_range)";
    String why = ": outgoing connections take their local ports from it, so ";
    String message;
    if (first == last) {
      message = "port " + first + " lies in " + range + why + "the backend may find its port taken; use a port below "
          + kernel.first();
    } else {
      String example = kernel.suggestBelow(last - first + 1);
      message = "ports " + first + "-" + last + note + " overlap " + range + " in " + overlap[0] + "-" + overlap[1]
          + why + "a backend may find its port taken; use a range below " + kernel.first()
          + (example == null ? "" : ", such as " + example);
    }
    yaml.warning(node, key, message + " (or reserve the ports in net.ipv4.ip_local_reserved_ports)");
  }

  /** Each tenant's instances with their ports: fixed ones as written, the rest from its range. */
  static Map<String, TenantConfig> assign(
      Path file, Path stateDir, List<TenantDraft> drafts, int listenPort, boolean remember) throws ConfigException {
    PortAssignments ports = PortAssignments.open(stateDir);
    java.util.Set<Integer> taken = new java.util.HashSet<>();
    taken.add(listenPort);
    drafts.forEach(d -> {
      if (d.fixedPort() != null) taken.add(d.fixedPort());
      d.routes().forEach(r -> { if (r.port() != null) taken.add(r.port()); });
    });
    Map<String, TenantConfig> tenants = new LinkedHashMap<>();
    List<ConfigProblem> problems = new ArrayList<>();
    for (TenantDraft d : drafts) {
      TenantConfig c = d.config();
      List<InstanceConfig> instances = new ArrayList<>();
      if (c.isTemplate()) {
        // Ports are handed out per derived tenant, on its first request (TemplateTenants).
        for (RouteDraft r : d.routes().isEmpty() ? List.of(new RouteDraft("", null, 1, false, false)) : d.routes()) {
          instances.add(new InstanceConfig(r.route(), 0, r.weight(), r.disabled(), r.standby()));
        }
        tenants.put(c.name(), c.withInstances(instances));
        continue;
      } else if (d.routes().isEmpty() && c.registration() != null) {
        // Served by registered members only: none until one registers.
      } else if (d.routes().isEmpty()) {
        int port = d.fixedPort() != null ? d.fixedPort() : ports.assign(c.name(), d.rangeFirst(), d.rangeLast(), taken);
        instances.add(InstanceConfig.single(port));
      } else {
        for (RouteDraft r : d.routes()) {
          // Each route remembers its own port, under tenant/route.
          // A remote member's port is its own machine's: nothing to assign or remember.
          int port = r.remote() != null ? r.remote().port() : r.port() != null ? r.port()
              : ports.assign(c.name() + "/" + r.route(), d.rangeFirst(), d.rangeLast(), taken);
          instances.add(new InstanceConfig(r.route(), port, r.weight(), r.disabled(), r.standby(), r.remote()));
        }
      }
      if (instances.stream().anyMatch(i -> i.port() < 0)) {
        problems.add(new ConfigProblem(file, d.node().getStartMark().getLine() + 1, "tenants." + c.name() + ".ports",
            "no free port left in " + d.rangeFirst() + "-" + d.rangeLast()));
        continue;
      }
      tenants.put(c.name(), c.withInstances(instances));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (remember) {
      try {
        ports.save();
      } catch (IOException e) {
        throw new ConfigException(List.of(new ConfigProblem(file, 0, "state-dir",
            "cannot write " + ports.file() + ": " + e.getMessage())));
      }
    }
    return tenants;
  }
}
