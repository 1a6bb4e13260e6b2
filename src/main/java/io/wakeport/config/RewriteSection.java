package io.wakeport.config;

import io.wakeport.config.ConfigLoader.Field;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads a tenant's {@code strip-prefix} (its own key, meaningful only with {@code paths}) and its
 * {@code rewrite:} section ({@code urls}, {@code cookie-domain}, {@code cookie-path},
 * {@code own-address}), which it may inherit from {@code defaults:}.
 */
final class RewriteSection {

  private static final List<String> KEYS = List.of("urls", "cookie-domain", "cookie-path", "own-address");
  /** A cookie domain as written in Set-Cookie: a host name or an address, perhaps bracketed. */
  private static final Pattern DOMAIN = Pattern.compile("[a-z0-9_.:\\[\\]-]+");
  /** A cookie path: absolute, without ';' (which would end the attribute) or control characters. */
  private static final Pattern COOKIE_PATH = Pattern.compile("/[\\x21-\\x3a\\x3c-\\x7e]*");

  private RewriteSection() {}

  /** {@code strip-prefix: true}: requests routed by a path token reach the backend without it. */
  static boolean readStripPrefix(YamlReader yaml, Map<String, Field> fields, List<String> paths) {
    Field f = fields.get("strip-prefix");
    if (f == null) {
      return false;
    }
    Boolean value = yaml.bool(f.node(), f.key());
    if (Boolean.TRUE.equals(value) && paths.isEmpty()) {
      yaml.problem(f.node(), f.key(), "only applies to a tenant with paths: it strips the path token a request "
          + "was routed by (add paths: [/prefix], or remove strip-prefix)");
    }
    return Boolean.TRUE.equals(value);
  }

  static ResponseRewriting read(YamlReader yaml, Field f) {
    if (f == null) {
      return ResponseRewriting.DEFAULT;
    }
    Map<String, NodeTuple> entries = yaml.mapping(f.node(), f.key());
    yaml.rejectUnknown(entries, f.key(), KEYS);
    boolean ownAddress = true;
    if (entries.containsKey("own-address")) {
      Boolean value = yaml.bool(entries.get("own-address").getValueNode(), f.key() + ".own-address");
      ownAddress = value == null || value;
    }
    List<ResponseRewriting.Url> urls = new ArrayList<>();
    if (entries.containsKey("urls")) {
      Node node = entries.get("urls").getValueNode();
      String key = f.key() + ".urls";
      for (String text : yaml.stringList(node, key)) {
        ResponseRewriting.Url url = url(text);
        if (url == null) {
          yaml.problem(node, key, "'" + text + "' is not an origin the backend writes, such as "
              + "http://app.internal:8080 or https://old.example.com/app (http or https, no user, query or fragment)");
        } else {
          urls.add(url);
        }
      }
    }
    Map<String, String> domains = new LinkedHashMap<>();
    if (entries.containsKey("cookie-domain")) {
      Node node = entries.get("cookie-domain").getValueNode();
      String key = f.key() + ".cookie-domain";
      yaml.stringMap(node, key).forEach((from, to) -> {
        String internal = domain(from);
        String outside = to.isEmpty() ? "" : domain(to);
        if (internal == null || internal.isEmpty() || outside == null) {
          yaml.problem(node, key + "." + from, "maps a cookie Domain to another, such as {app.internal: example.com},"
              + " or to \"\" to drop it; '" + from + "': '" + to + "' is not that");
        } else {
          domains.put(internal, outside);
        }
      });
    }
    Map<String, String> paths = new LinkedHashMap<>();
    if (entries.containsKey("cookie-path")) {
      Node node = entries.get("cookie-path").getValueNode();
      String key = f.key() + ".cookie-path";
      Map<String, String> read = yaml.stringMap(node, key);
      read.forEach((from, to) -> {
        if (!COOKIE_PATH.matcher(from).matches() || !COOKIE_PATH.matcher(to).matches()) {
          yaml.problem(node, key + "." + from, "maps a cookie Path prefix the backend sets to the public one, "
              + "both starting with /, such as {/app/: /}; '" + from + "': '" + to + "' is not that");
        }
      });
      // The longest prefix first, so /app/admin/ wins over /app/.
      read.entrySet().stream().sorted(Comparator.comparingInt((Map.Entry<String, String> e) -> e.getKey().length())
          .reversed()).forEach(e -> paths.put(e.getKey(), e.getValue()));
    }
    return new ResponseRewriting(ownAddress, urls, domains, paths);
  }

  /** {@code http[s]://host[:port][/base]}, or null when it is not that. */
  private static ResponseRewriting.Url url(String text) {
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      return null;
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return new ResponseRewriting.Url(scheme, uri.getHost().toLowerCase(Locale.ROOT), port, path);
  }

  /** A cookie domain in the form it is compared in: lower case, without a leading dot; null when malformed. */
  static String domain(String text) {
    String d = text.trim().toLowerCase(Locale.ROOT);
    if (d.startsWith(".")) {
      d = d.substring(1);
    }
    return DOMAIN.matcher(d).matches() ? d : null;
  }
}
