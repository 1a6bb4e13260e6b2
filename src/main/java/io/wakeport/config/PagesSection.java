package io.wakeport.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads {@code pages:} (at the root and per tenant: status or {@code waiting} to an HTML file,
 * relative to the config file that names it) and a tenant's {@code waiting-page:} ({@code off}, or
 * {@code {after: 1s, refresh: 1s}}). Page files are read here, once per load.
 */
final class PagesSection {

  static final List<String> WAITING_KEYS = List.of("after", "refresh");
  /** Larger than any error page needs; a bigger file is surely the wrong one. */
  private static final long MAX_PAGE_BYTES = 256 * 1024;
  private static final Duration MAX_AFTER = Duration.ofMinutes(10);
  private static final Duration MAX_REFRESH = Duration.ofMinutes(1);

  private PagesSection() {}

  /** {@code pages:} under {@code key} ("pages" or "tenants.acme.pages"); NONE when absent. */
  static PageTemplates readPages(YamlReader yaml, Node node, String key) {
    if (node == null) {
      return PageTemplates.NONE;
    }
    Map<String, PageTemplate> pages = new LinkedHashMap<>();
    for (Map.Entry<String, NodeTuple> e : yaml.mapping(node, key).entrySet()) {
      String name = e.getKey();
      String entryKey = key + "." + name;
      Node value = e.getValue().getValueNode();
      boolean waiting = PageTemplates.WAITING.equals(name);
      if (!waiting && !name.matches("[45]\\d\\d")) {
        yaml.problem(e.getValue().getKeyNode(), entryKey,
            "is neither a status (400 to 599, such as 503) nor 'waiting'");
        continue;
      }
      String file = yaml.string(value, entryKey);
      if (file == null) {
        continue;
      }
      // Relative to the file that names it, as an include's paths are.
      Path base = yaml.at(value, "", "").file().toAbsolutePath().getParent();
      Path path = base.resolve(file).normalize();
      PageTemplate page = readPage(yaml, value, entryKey, path,
          waiting ? PageTemplate.WAITING_PLACEHOLDERS : PageTemplate.STATUS_PLACEHOLDERS);
      if (page != null) {
        pages.put(name, page);
      }
    }
    return new PageTemplates(pages);
  }

  private static PageTemplate readPage(YamlReader yaml, Node node, String key, Path path, List<String> known) {
    String html;
    try {
      if (Files.isDirectory(path)) {
        yaml.problem(node, key, path + " is a directory, not an HTML file");
        return null;
      }
      if (Files.size(path) > MAX_PAGE_BYTES) {
        yaml.problem(node, key, path + " is larger than " + MAX_PAGE_BYTES / 1024 + " KiB");
        return null;
      }
      html = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(path))).toString();
    } catch (NoSuchFileException e) {
      yaml.problem(node, key, "no such file " + path);
      return null;
    } catch (AccessDeniedException e) {
      yaml.problem(node, key, path + " cannot be read: permission denied");
      return null;
    } catch (CharacterCodingException e) {
      yaml.problem(node, key, path + " is not UTF-8 text");
      return null;
    } catch (IOException e) {
      yaml.problem(node, key, path + " cannot be read: " + e.getMessage());
      return null;
    }
    List<String> unknown = Placeholders.unknown(html, known);
    if (!unknown.isEmpty()) {
      String[] lines = html.split("\n", -1);
      for (String name : unknown.stream().distinct().toList()) {
        int line = 1;
        for (int i = 0; i < lines.length; i++) {
          if (lines[i].contains("${" + name + "}")) {
            line = i + 1;
            break;
          }
        }
        yaml.problem(node, key, "unknown placeholder ${" + name + "} at " + path + ":" + line + " (known: "
            + String.join(", ", known.stream().map(n -> "${" + n + "}").toList()) + ")");
      }
      return null;
    }
    return new PageTemplate(path, html);
  }

  /** {@code waiting-page:} of a tenant (or of defaults); the default when absent. */
  static WaitingPage readWaiting(YamlReader yaml, Node node, String key) {
    WaitingPage d = WaitingPage.DEFAULT;
    if (node == null) {
      return d;
    }
    if (!(node instanceof MappingNode)) {
      String text = yaml.string(node, key);
      if (text == null) {
        return d;
      }
      return switch (text.trim()) {
        case "on", "true", "yes" -> d;
        case "off", "false", "no" -> WaitingPage.OFF;
        default -> {
          yaml.problem(node, key, "must be off, on or a mapping such as {after: 1s, refresh: 1s}, not '" + text + "'");
          yield d;
        }
      };
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, key);
    yaml.rejectUnknown(entries, key, WAITING_KEYS);
    Duration after = d.after();
    if (entries.containsKey("after")) {
      Node value = entries.get("after").getValueNode();
      Duration read = yaml.duration(value, key + ".after");
      if (read != null && read.compareTo(MAX_AFTER) > 0) {
        yaml.problem(value, key + ".after", "must be at most " + Durations.format(MAX_AFTER) + ", such as 1s");
      } else if (read != null) {
        after = read;
      }
    }
    Duration refresh = d.refresh();
    if (entries.containsKey("refresh")) {
      Node value = entries.get("refresh").getValueNode();
      Duration read = yaml.duration(value, key + ".refresh");
      if (read != null && (read.isZero() || read.toMillis() % 1000 != 0 || read.compareTo(MAX_REFRESH) > 0)) {
        // The Refresh header counts whole seconds.
        yaml.problem(value, key + ".refresh", "must be whole seconds from 1s to " + Durations.format(MAX_REFRESH)
            + ", such as 1s or 2s");
      } else if (read != null) {
        refresh = read;
      }
    }
    return new WaitingPage(true, after, refresh);
  }
}
