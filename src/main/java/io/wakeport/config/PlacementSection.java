package io.wakeport.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads node labels ({@code cluster.labels}) and a tenant's {@code placement:} (the labels its
 * instances need), both {@code name: value} maps of short plain words.
 */
final class PlacementSection {

  static final List<String> KEYS = List.of("labels");
  /** Label names and values alike: they are compared as written, shown in /api/cluster and in logs. */
  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  private PlacementSection() {}

  /**
   * A tenant's {@code placement:} ({@code null} field: {@link PlacementPolicy#ANYWHERE}).
   *
   * @param key {@code tenants.NAME.placement} or {@code defaults.placement}
   */
  static PlacementPolicy read(YamlReader yaml, Node node, String key) {
    if (node == null) {
      return PlacementPolicy.ANYWHERE;
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, key);
    yaml.rejectUnknown(entries, key, KEYS);
    NodeTuple labels = entries.get("labels");
    return labels == null ? PlacementPolicy.ANYWHERE
        : new PlacementPolicy(labels(yaml, labels.getValueNode(), key + ".labels"));
  }

  /** A {@code name: value} label map, each name and value a plain word. */
  static Map<String, String> labels(YamlReader yaml, Node node, String key) {
    Map<String, String> labels = new LinkedHashMap<>();
    yaml.mapping(node, key).forEach((name, tuple) -> {
      if (!WORD.matcher(name).matches()) {
        yaml.problem(tuple.getKeyNode(), key, "label names are letters, digits, '.', '_' or '-' (at most 63), not '"
            + name + "'");
        return;
      }
      String value = yaml.string(tuple.getValueNode(), key + "." + name);
      if (value == null) {
        return;
      }
      if (!WORD.matcher(value).matches()) {
        yaml.problem(tuple.getValueNode(), key + "." + name,
            "label values are letters, digits, '.', '_' or '-' (at most 63), not '" + value + "'");
        return;
      }
      labels.put(name, value);
    });
    return labels;
  }
}
