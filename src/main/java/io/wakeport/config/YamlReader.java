package io.wakeport.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Typed access to a composed YAML tree that records a {@link ConfigProblem} (file, line, key) for
 * every value of the wrong shape instead of throwing, so one pass reports every problem.
 */
final class YamlReader {

  private final Path file;
  private final List<ConfigProblem> problems;
  /** Found like problems, but the config is still used (a port range the kernel may take ports from). */
  private final List<ConfigProblem> warnings;
  /** Nodes read through this reader that come from another file (inherited defaults). */
  private final Map<Node, Path> elsewhere;
  private final Map<String, String> environment;

  YamlReader(Path file, List<ConfigProblem> problems, List<ConfigProblem> warnings, Map<String, String> environment) {
    this(file, problems, warnings, environment, Map.of());
  }

  private YamlReader(Path file, List<ConfigProblem> problems, List<ConfigProblem> warnings,
      Map<String, String> environment, Map<Node, Path> elsewhere) {
    this.file = file;
    this.problems = problems;
    this.warnings = warnings;
    this.environment = environment;
    this.elsewhere = elsewhere;
  }

  Path file() {
    return file;
  }

  /** A reader for {@code other}'s file that still reports this reader's nodes (and theirs) with this file. */
  YamlReader forFile(Path other, List<Node> nodesOfThisFile) {
    if (other.equals(file)) {
      return this;
    }
    Map<Node, Path> map = new java.util.IdentityHashMap<>(elsewhere);
    for (Node n : nodesOfThisFile) {
      collect(n, map);
    }
    return new YamlReader(other, problems, warnings, environment, map);
  }

  private void collect(Node node, Map<Node, Path> map) {
    map.put(node, elsewhere.getOrDefault(node, file));
    if (node instanceof MappingNode m) {
      for (NodeTuple t : m.getValue()) {
        collect(t.getKeyNode(), map);
        collect(t.getValueNode(), map);
      }
    } else if (node instanceof SequenceNode seq) {
      seq.getValue().forEach(n -> collect(n, map));
    }
  }

  int problemCount() {
    return problems.size();
  }

  void problem(Node node, String key, String message) {
    problems.add(at(node, key, message));
  }

  void warning(Node node, String key, String message) {
    warnings.add(at(node, key, message));
  }

  /** Where {@code node} is, as a problem with {@code message} would say it: for checks made after loading. */
  ConfigProblem at(Node node, String key, String message) {
    Path where = node == null ? file : elsewhere.getOrDefault(node, file);
    return new ConfigProblem(where, node == null ? 0 : node.getStartMark().getLine() + 1, key, message);
  }

  /** The entries of a mapping by key, in file order; duplicate keys are a problem. */
  Map<String, NodeTuple> mapping(Node node, String key) {
    Map<String, NodeTuple> entries = new LinkedHashMap<>();
    if (!(node instanceof MappingNode mapping)) {
      problem(node, key, "must be a mapping (key: value lines)");
      return entries;
    }
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode k)) {
        problem(tuple.getKeyNode(), key, "keys must be plain names");
        continue;
      }
      if (entries.putIfAbsent(k.getValue(), tuple) != null) {
        problem(k, join(key, k.getValue()), "is given twice");
      }
    }
    return entries;
  }

  /** Keys not in {@code known} are almost always typos: report them rather than ignore them. */
  void rejectUnknown(Map<String, NodeTuple> entries, String key, List<String> known) {
    entries.forEach((name, tuple) -> {
      if (!known.contains(name)) {
        problem(tuple.getKeyNode(), join(key, name), "unknown key (known keys: " + String.join(", ", known) + ")");
      }
    });
  }

  String string(Node node, String key) {
    if (node instanceof ScalarNode scalar) {
      if (scalar.getTag().equals(org.yaml.snakeyaml.nodes.Tag.NULL)) {
        problem(node, key, "has no value");
        return null;
      }
      return withEnvironment(scalar, key);
    }
    problem(node, key, "must be a single value");
    return null;
  }

  /** A list of strings; a single scalar is accepted as a one-element list. */
  List<String> stringList(Node node, String key) {
    List<String> values = new ArrayList<>();
    if (node instanceof ScalarNode scalar) {
      values.add(scalar.getValue());
    } else if (node instanceof SequenceNode seq) {
      for (Node item : seq.getValue()) {
        String value = string(item, key);
        if (value != null) {
          values.add(value);
        }
      }
    } else {
      problem(node, key, "must be a list");
    }
    return values;
  }

  /** A list of strings that must be written as a YAML sequence. */
  List<String> strictList(Node node, String key, String hint) {
    if (!(node instanceof SequenceNode)) {
      problem(node, key, "must be a list" + hint);
      return List.of();
    }
    return stringList(node, key);
  }

  Map<String, String> stringMap(Node node, String key) {
    Map<String, String> values = new LinkedHashMap<>();
    mapping(node, key).forEach((name, tuple) -> {
      String value = string(tuple.getValueNode(), join(key, name));
      if (value != null) {
        values.put(name, value);
      }
    });
    return values;
  }

  Boolean bool(Node node, String key) {
    String value = string(node, key);
    if (value == null) return null;
    return switch (value) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> {
        problem(node, key, "must be true or false, not '" + value + "'");
        yield null;
      }
    };
  }

  Integer integer(Node node, String key, int min, int max) {
    String value = string(node, key);
    if (value == null) return null;
    try {
      int n = Integer.parseInt(value.trim());
      if (n < min || n > max) {
        problem(node, key, "must be between " + min + " and " + max + ", not " + n);
        return null;
      }
      return n;
    } catch (NumberFormatException e) {
      problem(node, key, "must be a whole number, not '" + value + "'");
      return null;
    }
  }

  java.time.Duration duration(Node node, String key) {
    String value = string(node, key);
    if (value == null) return null;
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      problem(node, key, e.getMessage());
      return null;
    }
  }

  private static final java.util.regex.Pattern ENV = java.util.regex.Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

  /** Replaces {@code ${env:NAME}} with wakeport's own environment (for secrets kept out of the file). */
  private String withEnvironment(ScalarNode scalar, String key) {
    String value = scalar.getValue();
    if (!value.contains("${env:")) {
      return value;
    }
    java.util.regex.Matcher m = ENV.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String found = environment.get(m.group(1));
      if (found == null) {
        problem(scalar, key, "environment variable " + m.group(1) + " is not set");
        found = "";
      }
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(found));
    }
    m.appendTail(out);
    return out.toString();
  }

  static String join(String parent, String key) {
    return parent == null || parent.isEmpty() ? key : parent + "." + key;
  }
}
