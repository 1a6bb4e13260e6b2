package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * What a tenant's remote members ({@code address:}) ask of the rest of it: a command only when a
 * route is started here, a {@code check} only when a route is served elsewhere, and no template.
 */
final class RemoteRoutes {

  private RemoteRoutes() {}

  static void check(YamlReader yaml, NodeTuple tuple, String key, Map<String, Field> fields, List<RouteDraft> routes,
      boolean template, boolean registration) {
    // Registered members are remote ones; a tenant with registration and no routes has them only.
    boolean remoteRoutes = routes.stream().anyMatch(r -> r.remote() != null);
    boolean anyRemote = registration || remoteRoutes;
    boolean anyLocal = routes.isEmpty() ? !registration : routes.stream().anyMatch(r -> r.remote() == null);
    Field command = fields.get("command");
    if (command == null && anyLocal) {
      yaml.problem(tuple.getKeyNode(), key + ".command", "is missing: say how to start the tenant's backend");
    }
    if (command != null && !anyLocal && isOwn(command, key)) {
      yaml.problem(command.node(), command.key(), routes.isEmpty()
          ? "the tenant has no routes and is served by registered members only: there is nothing to start; remove "
              + "the command (or name its own instances under routes)"
          : "every route of the tenant has an address (served elsewhere): there is nothing to start; remove the command");
    }
    Field check = fields.get("check");
    if (check != null && !anyRemote && isOwn(check, key)) {
      yaml.problem(check.node(), check.key(), "applies to routes with an address only (instances started here are "
          + "watched through their process and port; see ready)");
    }
    if (remoteRoutes && template) { // (registration on a template: RegistrationSection says so)
      yaml.problem(fields.get("routes").node(), fields.get("routes").key(),
          "a template's tenants are started here, each on its own port: no route may have an address");
    }
  }

  /** Set on the tenant itself, not inherited from defaults (which serve local tenants too). */
  private static boolean isOwn(Field field, String tenantKey) {
    return field.key().startsWith(tenantKey + ".");
  }
}
