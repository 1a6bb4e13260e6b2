package io.wakeport.config;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tenant's {@code placement:} on a cluster: the node labels its instances need. An instance is
 * placed only on a node whose {@code cluster.labels} include every one of these pairs; none (the
 * default) places it on any node. Part of the tenant's definition, so of its digest: the labels
 * are kept sorted, and so are written the same way on every node.
 *
 * @param labels label name to the value a node must have
 */
public record PlacementPolicy(Map<String, String> labels) {

  public static final PlacementPolicy ANYWHERE = new PlacementPolicy(Map.of());

  public PlacementPolicy {
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  /** Whether a node with {@code nodeLabels} may run the tenant's instances. */
  public boolean admits(Map<String, String> nodeLabels) {
    return labels.entrySet().stream().allMatch(e -> e.getValue().equals(nodeLabels.get(e.getKey())));
  }

  /** The labels as {@code disk=ssd,zone=a}, for logs and pages. */
  public static String describe(Map<String, String> labels) {
    return String.join(",", new TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
  }
}
