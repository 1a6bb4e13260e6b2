package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads how backends are supervised: the top-level {@code max-running}, {@code max-starting} and
 * {@code on-exit}, and each tenant's policy (idle-timeout, ignore, stop-signal, stop-grace, backoff,
 * max-queue, queue-timeout, min-running, log-max-size, on-change, limits, foreign-listener), and the
 * top-level {@code containment}.
 */
final class SupervisionSection {

  private static final List<String> SIGNALS = List.of("TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "KILL");

  private final YamlReader yaml;
  private final Map<String, Field> fields;

  private SupervisionSection(YamlReader yaml, Map<String, Field> fields) {
    this.yaml = yaml;
    this.fields = fields;
  }

  /** The settings for all tenants together, from the top level of the main file. */
  static SupervisorSettings readGlobal(YamlReader yaml, Map<String, NodeTuple> top) {
    SupervisorSettings d = SupervisorSettings.defaults();
    Integer maxRunning = top.containsKey("max-running")
        ? yaml.integer(top.get("max-running").getValueNode(), "max-running", 1, Integer.MAX_VALUE) : null;
    Integer maxStarting = top.containsKey("max-starting")
        ? yaml.integer(top.get("max-starting").getValueNode(), "max-starting", 1, 10_000) : null;
    boolean keep = d.keepOnExit();
    if (top.containsKey("on-exit")) {
      Node node = top.get("on-exit").getValueNode();
      String value = yaml.string(node, "on-exit");
      if ("keep".equals(value)) {
        keep = true;
      } else if ("stop".equals(value)) {
        keep = false;
      } else if (value != null) {
        yaml.problem(node, "on-exit", "must be stop or keep, not '" + value + "'");
      }
    }
    ContainmentMode containment = d.containment();
    if (top.containsKey("containment")) {
      Node node = top.get("containment").getValueNode();
      String value = yaml.string(node, "containment");
      if (value != null) {
        try {
          containment = ContainmentMode.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          yaml.problem(node, "containment", "must be auto, cgroup or marker, not '" + value + "'");
        }
      }
    }
    return new SupervisorSettings(maxRunning != null ? maxRunning : d.maxRunning(),
        maxStarting != null ? maxStarting : d.maxStarting(), keep, maxRunning == null, containment);
  }

  /** One tenant's policy; {@code fields} holds its own keys and those it inherits from defaults. */
  static SupervisionPolicy read(YamlReader yaml, Map<String, Field> fields) {
    return new SupervisionSection(yaml, fields).policy();
  }

  private SupervisionPolicy policy() {
    SupervisionPolicy d = SupervisionPolicy.defaults();
    Duration idle = d.idleTimeout();
    Field f = fields.get("idle-timeout");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if ("never".equals(text)) {
        idle = Duration.ZERO;
      } else if (text != null) {
        Duration parsed = yaml.duration(f.node(), f.key());
        idle = parsed != null ? parsed : idle;
      }
    }
    List<String> ignorePaths = List.of();
    List<Pattern> ignoreAgents = List.of();
    int ignoreStatus = d.ignoreStatus();
    f = fields.get("ignore");
    if (f != null) {
      Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
      yaml.rejectUnknown(entries, f.key(), List.of("paths", "user-agents", "status"));
      if (entries.containsKey("paths")) {
        ignorePaths = yaml.stringList(entries.get("paths").getValueNode(), f.key() + ".paths");
        for (String p : ignorePaths) {
          if (!p.startsWith("/")) {
            yaml.problem(entries.get("paths").getValueNode(), f.key() + ".paths", "'" + p + "' must start with /");
          }
        }
      }
      if (entries.containsKey("user-agents")) {
        List<Pattern> patterns = new ArrayList<>();
        Node node = entries.get("user-agents").getValueNode();
        for (String regex : yaml.stringList(node, f.key() + ".user-agents")) {
          try {
            patterns.add(Pattern.compile(regex));
          } catch (java.util.regex.PatternSyntaxException e) {
            yaml.problem(node, f.key() + ".user-agents", "'" + regex + "' is not a valid regular expression");
          }
        }
        ignoreAgents = patterns;
      }
      if (entries.containsKey("status")) {
        Integer status = yaml.integer(entries.get("status").getValueNode(), f.key() + ".status", 200, 599);
        ignoreStatus = status != null ? status : ignoreStatus;
      }
    }
    String signal = d.stopSignal();
    f = fields.get("stop-signal");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if (text != null) {
        String name = text.toUpperCase(Locale.ROOT).replaceFirst("^SIG", "");
        if (SIGNALS.contains(name)) {
          signal = name;
        } else {
          yaml.problem(f.node(), f.key(), "must be one of " + String.join(", ", SIGNALS) + ", not '" + text + "'");
        }
      }
    }
    Duration grace = durationOr(yaml, fields.get("stop-grace"), d.stopGrace());
    int failures = d.backoffFailures();
    Duration window = d.backoffWindow();
    Duration initial = d.backoffInitial();
    Duration max = d.backoffMax();
    f = fields.get("backoff");
    if (f != null) {
      Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
      yaml.rejectUnknown(entries, f.key(), List.of("after", "within", "initial", "max"));
      if (entries.containsKey("after")) {
        Integer n = yaml.integer(entries.get("after").getValueNode(), f.key() + ".after", 1, 1000);
        failures = n != null ? n : failures;
      }
      window = durationOr(yaml, entries.containsKey("within")
          ? new Field(entries.get("within").getValueNode(), f.key() + ".within") : null, window);
      initial = durationOr(yaml, entries.containsKey("initial")
          ? new Field(entries.get("initial").getValueNode(), f.key() + ".initial") : null, initial);
      max = durationOr(yaml, entries.containsKey("max")
          ? new Field(entries.get("max").getValueNode(), f.key() + ".max") : null, max);
    }
    int maxQueue = d.maxQueue();
    f = fields.get("max-queue");
    if (f != null) {
      Integer n = yaml.integer(f.node(), f.key(), 0, 1_000_000);
      maxQueue = n != null ? n : maxQueue;
    }
    Duration queueTimeout = durationOr(yaml, fields.get("queue-timeout"), d.queueTimeout());
    int minRunning = d.minRunning();
    f = fields.get("min-running");
    if (f != null) {
      Integer n = yaml.integer(f.node(), f.key(), 0, 64);
      minRunning = n != null ? n : minRunning;
    }
    long logMax = d.logMaxBytes();
    f = fields.get("log-max-size");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if (text != null) {
        long bytes = ConfigLoader.parseSize(text);
        if (bytes < 1024) {
          yaml.problem(f.node(), f.key(), "must be a size of at least 1KB, such as 512KB, 10MB or 1GB, not '" + text + "'");
        } else {
          logMax = bytes;
        }
      }
    }
    boolean restartOnChange = d.restartOnChange();
    f = fields.get("on-change");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if ("restart".equals(text)) {
        restartOnChange = true;
      } else if ("keep".equals(text) || "next-start".equals(text)) {
        restartOnChange = false;
      } else if (text != null) {
        yaml.problem(f.node(), f.key(), "must be restart or keep, not '" + text + "'");
      }
    }
    boolean refuseForeign = d.refuseForeignListener();
    f = fields.get("foreign-listener");
    if (f != null) {
      String text = yaml.string(f.node(), f.key());
      if ("refuse".equals(text)) {
        refuseForeign = true;
      } else if ("use".equals(text)) {
        refuseForeign = false;
      } else if (text != null) {
        yaml.problem(f.node(), f.key(), "must be use or refuse, not '" + text + "'");
      }
    }
    ResourceLimits limits = limits(fields.get("limits"));
    return new SupervisionPolicy(idle, ignorePaths, ignoreAgents, ignoreStatus, signal, grace, failures, window,
        initial, max, maxQueue, queueTimeout, minRunning, logMax, restartOnChange, limits, refuseForeign);
  }

  /** {@code limits: {memory: 512M, cpu: 0.5, pids: 200}}: each optional. */
  private ResourceLimits limits(Field f) {
    if (f == null) {
      return ResourceLimits.NONE;
    }
    Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
    yaml.rejectUnknown(entries, f.key(), List.of("memory", "cpu", "pids"));
    long memory = 0;
    double cpus = 0;
    int pids = 0;
    if (entries.containsKey("memory")) {
      Node node = entries.get("memory").getValueNode();
      String text = yaml.string(node, f.key() + ".memory");
      if (text != null) {
        long bytes = ConfigLoader.parseSize(text);
        if (bytes < 4L * 1024 * 1024) {
          yaml.problem(node, f.key() + ".memory", "must be a size of at least 4M, such as 256M or 1G, not '" + text + "'");
        } else {
          memory = bytes;
        }
      }
    }
    if (entries.containsKey("cpu")) {
      Node node = entries.get("cpu").getValueNode();
      String text = yaml.string(node, f.key() + ".cpu");
      if (text != null) {
        try {
          cpus = Double.parseDouble(text);
          if (!(cpus >= 0.01 && cpus <= 1024)) throw new NumberFormatException();
        } catch (NumberFormatException e) {
          cpus = 0;
          yaml.problem(node, f.key() + ".cpu", "must be a number of CPUs from 0.01 to 1024, such as 0.5 or 2, not '" + text + "'");
        }
      }
    }
    if (entries.containsKey("pids")) {
      Integer n = yaml.integer(entries.get("pids").getValueNode(), f.key() + ".pids", 1, 4_194_304);
      pids = n != null ? n : 0;
    }
    return new ResourceLimits(memory, cpus, pids, yaml.at(f.node(), f.key(), ""));
  }

  private static Duration durationOr(YamlReader yaml, Field f, Duration fallback) {
    if (f == null) return fallback;
    Duration d = yaml.duration(f.node(), f.key());
    return d != null ? d : fallback;
  }
}
