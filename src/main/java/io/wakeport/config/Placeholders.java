package io.wakeport.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The ${name} placeholders allowed in command, workdir and env. */
public final class Placeholders {

  public static final List<String> NAMES = List.of("tenant", "port", "route");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");

  private Placeholders() {}

  /** Names used in {@code template} that are not known placeholders. */
  public static List<String> unknown(String template) {
    return unknown(template, NAMES);
  }

  /** Names used in {@code template} that are not among {@code known}. */
  public static List<String> unknown(String template, List<String> known) {
    List<String> unknown = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(template);
    while (m.find()) {
      if (!known.contains(m.group(1))) {
        unknown.add(m.group(1));
      }
    }
    return unknown;
  }

  /** Substitutes every known placeholder; values are inserted literally, never re-expanded. */
  public static String substitute(String template, Map<String, String> values) {
    if (template.indexOf("${") < 0) {
      return template;
    }
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value != null ? value : m.group()));
    }
    m.appendTail(out);
    return out.toString();
  }
}
