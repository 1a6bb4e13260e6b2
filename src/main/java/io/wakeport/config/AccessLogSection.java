package io.wakeport.config;

import io.wakeport.accesslog.AccessLogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads the {@code access-log:} section. Off unless it names a format; the file is relative to the
 * config file and defaults to {@code <state-dir>/access.log}: not in {@code logs/}, where a tenant
 * named {@code access} writes its {@code access.log}.
 */
final class AccessLogSection {

  static final List<String> KEYS = List.of("format", "file", "max-size", "keep");

  private AccessLogSection() {}

  static AccessLogSettings read(YamlReader yaml, NodeTuple tuple, Path baseDir, Path stateDir) {
    AccessLogSettings d = AccessLogSettings.disabled();
    if (tuple == null) {
      return d;
    }
    Map<String, NodeTuple> entries = yaml.mapping(tuple.getValueNode(), "access-log");
    yaml.rejectUnknown(entries, "access-log", KEYS);
    AccessLogSettings.Format format = d.format();
    if (entries.containsKey("format")) {
      Node node = entries.get("format").getValueNode();
      String text = yaml.string(node, "access-log.format");
      if (text != null) {
        switch (text.trim().toLowerCase(Locale.ROOT)) {
          case "off" -> format = AccessLogSettings.Format.OFF;
          case "combined" -> format = AccessLogSettings.Format.COMBINED;
          case "json" -> format = AccessLogSettings.Format.JSON;
          default -> yaml.problem(node, "access-log.format", "must be off, combined or json, not '" + text + "'");
        }
      }
    }
    Path file = stateDir.resolve("access.log");
    if (entries.containsKey("file")) {
      Node node = entries.get("file").getValueNode();
      String text = yaml.string(node, "access-log.file");
      if (text != null) {
        file = baseDir.resolve(text).normalize();
        if (text.isBlank() || Files.isDirectory(file)) {
          yaml.problem(node, "access-log.file", "must name a file, not the directory " + file);
        }
      }
    }
    long maxBytes = d.maxBytes();
    if (entries.containsKey("max-size")) {
      Node node = entries.get("max-size").getValueNode();
      String text = yaml.string(node, "access-log.max-size");
      if (text != null) {
        long bytes = ConfigLoader.parseSize(text);
        if (bytes < 1024) {
          yaml.problem(node, "access-log.max-size", "must be a size of at least 1KB, such as 512KB, 100MB or 1GB, not '" + text + "'");
        } else {
          maxBytes = bytes;
        }
      }
    }
    Integer keep = entries.containsKey("keep")
        ? yaml.integer(entries.get("keep").getValueNode(), "access-log.keep", 0, 1000) : null;
    return new AccessLogSettings(format, file, maxBytes, keep != null ? keep : d.keep());
  }
}
