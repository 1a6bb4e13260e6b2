package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads a tenant's {@code registration:} ({@code {secret: ${env:REG_SECRET}, ttl: 30s, max-members: 16,
 * addresses: [10.0.0.0/8]}}) into a {@link RegistrationPolicy}; null without the key.
 */
final class RegistrationSection {

  /** The balancer keeps its members in one 64-bit mask: configured routes and registered ones together. */
  static final int MAX_INSTANCES = 64;
  /** A secret shorter than this could be guessed over the network. */
  private static final int MIN_SECRET = 16;

  private RegistrationSection() {}

  static RegistrationPolicy read(YamlReader yaml, Field f, Field checkField, List<RouteDraft> routes,
      boolean template) {
    if (f == null) {
      return null;
    }
    Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
    yaml.rejectUnknown(entries, f.key(), List.of("secret", "ttl", "max-members", "addresses"));
    if (template) {
      yaml.problem(f.node(), f.key(), "a template's tenants are started here: none takes registered members");
    }
    String secret = null;
    if (entries.containsKey("secret")) {
      Node node = entries.get("secret").getValueNode();
      secret = yaml.string(node, f.key() + ".secret");
      if (secret != null && secret.length() < MIN_SECRET) {
        yaml.problem(node, f.key() + ".secret", "must be at least " + MIN_SECRET + " characters (use e.g. openssl rand "
            + "-hex 32, kept in the environment: ${env:REG_SECRET})");
      }
    }
    Duration ttl = RegistrationPolicy.DEFAULT_TTL;
    if (entries.containsKey("ttl")) {
      Node node = entries.get("ttl").getValueNode();
      Duration d = yaml.duration(node, f.key() + ".ttl");
      if (d != null && (d.toMillis() < 500 || d.compareTo(Duration.ofHours(1)) > 0)) {
        yaml.problem(node, f.key() + ".ttl", "must be between 500ms and 1h");
      } else if (d != null) {
        ttl = d;
      }
    }
    int room = MAX_INSTANCES - routes.size();
    int max = Math.min(RegistrationPolicy.DEFAULT_MAX_MEMBERS, room);
    if (entries.containsKey("max-members")) {
      Node node = entries.get("max-members").getValueNode();
      Integer m = yaml.integer(node, f.key() + ".max-members", 1, MAX_INSTANCES);
      if (m != null && m > room) {
        yaml.problem(node, f.key() + ".max-members", "is " + m + " but with its " + routes.size()
            + " configured route(s) the tenant has room for " + room + " (at most " + MAX_INSTANCES + " in all)");
      } else if (m != null) {
        max = m;
      }
    }
    List<AddressBlock> blocks = new ArrayList<>();
    if (!entries.containsKey("addresses")) {
      yaml.problem(f.node(), f.key() + ".addresses", "is missing: say where registered members may be, such as "
          + "[10.0.0.0/8] (a member's address is sent requests, so it must not be anywhere)");
    } else {
      Node node = entries.get("addresses").getValueNode();
      for (String text : yaml.stringList(node, f.key() + ".addresses")) {
        AddressBlock block = AddressBlock.parse(text);
        if (block == null) {
          yaml.problem(node, f.key() + ".addresses", "'" + text + "' is not an address block such as 10.0.0.0/8 "
              + "or fd00::/8 (IP addresses, no names)");
        } else {
          blocks.add(block);
        }
      }
    }
    HealthCheck check = routes.stream().filter(r -> r.remote() != null).map(r -> r.remote().check()).findFirst()
        .orElseGet(() -> RemoteSection.readCheck(yaml, checkField));
    return new RegistrationPolicy(secret, ttl, max, blocks, check);
  }
}
