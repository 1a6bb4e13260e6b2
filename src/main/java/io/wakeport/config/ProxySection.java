package io.wakeport.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/** Reads the {@code proxy:} section: how requests are forwarded and what a front client may hold. */
final class ProxySection {

  static final List<String> KEYS = List.of(
      "max-connections-per-backend", "connect-timeout", "preserve-host", "trust-forwarded-headers", "event-loops",
      "h2c", "client-header-timeout", "keepalive-timeout", "client-body-timeout", "client-send-timeout",
      "max-connections",
      "max-connections-per-client", "max-request-line", "max-header-line", "max-request-headers",
      "max-response-headers", "max-request-body");

  private final YamlReader yaml;
  private final Map<String, NodeTuple> entries;

  private ProxySection(YamlReader yaml, Map<String, NodeTuple> entries) {
    this.yaml = yaml;
    this.entries = entries;
  }

  static ProxySettings read(YamlReader yaml, NodeTuple tuple) {
    ProxySettings d = ProxySettings.defaults();
    if (tuple == null) {
      return d;
    }
    Map<String, NodeTuple> entries = yaml.mapping(tuple.getValueNode(), "proxy");
    yaml.rejectUnknown(entries, "proxy", KEYS);
    return new ProxySection(yaml, entries).read(d);
  }

  private ProxySettings read(ProxySettings d) {
    ClientLimits c = d.client();
    ClientLimits client = new ClientLimits(
        duration("client-header-timeout", c.headerTimeout()),
        duration("keepalive-timeout", c.keepAliveTimeout()),
        duration("client-body-timeout", c.bodyTimeout()),
        duration("client-send-timeout", c.sendTimeout()),
        integer("max-connections", 0, 10_000_000, c.maxConnections()),
        integer("max-connections-per-client", 0, 10_000_000, c.maxConnectionsPerClient()),
        size("max-request-line", 256, 1024 * 1024, c.maxRequestLine()),
        size("max-header-line", 256, 1024 * 1024, c.maxHeaderLine()),
        size("max-request-headers", 1024, 16 * 1024 * 1024, c.maxRequestHeaders()),
        size("max-response-headers", 1024, 16 * 1024 * 1024, c.maxResponseHeaders()),
        bodySize("max-request-body", c.maxRequestBody()));
    return new ProxySettings(
        integer("max-connections-per-backend", 1, 100_000, d.maxConnectionsPerBackend()),
        duration("connect-timeout", d.connectTimeout()),
        bool("preserve-host", d.preserveHost()),
        bool("trust-forwarded-headers", d.trustForwardedHeaders()),
        integer("event-loops", 1, 256, d.eventLoops()),
        bool("h2c", d.h2c()),
        client);
  }

  private Node node(String name) {
    NodeTuple tuple = entries.get(name);
    return tuple == null ? null : tuple.getValueNode();
  }

  private int integer(String name, int min, int max, int fallback) {
    Node node = node(name);
    Integer n = node == null ? null : yaml.integer(node, "proxy." + name, min, max);
    return n != null ? n : fallback;
  }

  private boolean bool(String name, boolean fallback) {
    Node node = node(name);
    Boolean b = node == null ? null : yaml.bool(node, "proxy." + name);
    return b != null ? b : fallback;
  }

  private Duration duration(String name, Duration fallback) {
    Node node = node(name);
    Duration value = node == null ? null : yaml.duration(node, "proxy." + name);
    return value != null ? value : fallback;
  }

  /** 0 (no limit) or a size such as 10MB. */
  private long bodySize(String name, long fallback) {
    Node node = node(name);
    String text = node == null ? null : yaml.string(node, "proxy." + name);
    if (text == null) {
      return fallback;
    }
    long bytes = ConfigLoader.parseSize(text);
    if (bytes < 0) {
      yaml.problem(node, "proxy." + name, "must be 0 (no limit) or a size such as 1MB or 2GB, not '" + text + "'");
      return fallback;
    }
    return bytes;
  }

  private int size(String name, int min, int max, int fallback) {
    Node node = node(name);
    String text = node == null ? null : yaml.string(node, "proxy." + name);
    if (text == null) {
      return fallback;
    }
    long bytes = ConfigLoader.parseSize(text);
    if (bytes < min || bytes > max) {
      yaml.problem(node, "proxy." + name, "must be a size from " + min + " bytes to " + (max / 1024) + "KB, such as 8KB or 64KB, not '"
          + text + "'");
      return fallback;
    }
    return (int) bytes;
  }
}
