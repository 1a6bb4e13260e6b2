package io.wakeport.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An operator's HTML page for one status (or for the waiting page), read from its file when the
 * config was loaded: a reload reads it again, a request never touches the disk.
 *
 * @param file where it was read, for messages
 * @param html the file's text, placeholders unsubstituted
 */
public record PageTemplate(Path file, String html) {

  /** What every page may say. */
  public static final List<String> STATUS_PLACEHOLDERS =
      List.of("status", "title", "message", "tenant", "request-id", "retry-after");
  /** What the waiting page may say besides. */
  public static final List<String> WAITING_PLACEHOLDERS = List.of("status", "title", "message", "tenant",
      "request-id", "retry-after", "waited", "progress", "refresh");

  /**
   * The page with each {@code ${name}} replaced by its value, HTML-escaped: a Host, a tenant name
   * or a request id can never add markup. A value missing from {@code values} becomes empty.
   */
  public String render(Map<String, String> values) {
    Map<String, String> escaped = new LinkedHashMap<>();
    for (String name : WAITING_PLACEHOLDERS) {
      escaped.put(name, escapeHtml(values.getOrDefault(name, "")));
    }
    return Placeholders.substitute(html, escaped);
  }

  /** Escapes text for HTML content and quoted attribute values. */
  public static String escapeHtml(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
