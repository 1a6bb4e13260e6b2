package io.wakeport.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/** Reads {@code watch:}: {@code true} (the default), {@code false}, or {@code {quiet: 2s}}. */
final class WatchSection {

  static final List<String> KEYS = List.of("quiet");

  /** Longer than this is surely a typo (2h for 2s): an edit would seem to be ignored. */
  private static final Duration MAX_QUIET = Duration.ofMinutes(10);

  private WatchSection() {}

  static WatchSettings read(YamlReader yaml, NodeTuple tuple) {
    WatchSettings d = WatchSettings.defaults();
    if (tuple == null) {
      return d;
    }
    Node node = tuple.getValueNode();
    if (!(node instanceof MappingNode)) {
      String text = yaml.string(node, "watch");
      if (text == null) {
        return d;
      }
      return switch (text.trim()) {
        case "true", "yes", "on" -> d;
        case "false", "no", "off" -> new WatchSettings(false, d.quiet());
        default -> {
          yaml.problem(node, "watch", "must be true, false (reload on HUP only) or a mapping such as {quiet: 2s}, not '"
              + text + "'");
          yield d;
        }
      };
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, "watch");
    yaml.rejectUnknown(entries, "watch", KEYS);
    Duration quiet = d.quiet();
    if (entries.containsKey("quiet")) {
      Node value = entries.get("quiet").getValueNode();
      Duration read = yaml.duration(value, "watch.quiet");
      if (read != null && (read.isZero() || read.compareTo(MAX_QUIET) > 0)) {
        yaml.problem(value, "watch.quiet", "must be longer than 0 and at most " + Durations.format(MAX_QUIET)
            + ", such as 2s (watch: false reloads on HUP only)");
      } else if (read != null) {
        quiet = read;
      }
    }
    return new WatchSettings(true, quiet);
  }
}
