package io.wakeport.config;

import io.wakeport.tls.CertificateFileException;
import io.wakeport.tls.CertificateFiles;
import io.wakeport.tls.CertificateSource;
import io.wakeport.tls.ServedCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads {@code https:}: its listen addresses, its certificate files (read and checked here, so a
 * bad file fails the config at its line: unreadable, a key that is not the certificate's, a host
 * the certificate does not name; expiry within three weeks is a warning), redirect and HSTS.
 */
final class HttpsSection {

  static final List<String> KEYS = List.of("listen", "certificates", "acme", "redirect", "hsts");
  private static final List<String> CERTIFICATE_KEYS = List.of("hosts", "cert", "key");
  private static final List<String> HSTS_KEYS = List.of("max-age", "include-subdomains", "preload");
  private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?");
  private static final Pattern DAYS = Pattern.compile("(\\d{1,5})d");
  /** hstspreload.org's floor for a preload request. */
  private static final Duration PRELOAD_MIN = Duration.ofDays(365);

  private final YamlReader yaml;
  private final Path baseDir;

  private HttpsSection(YamlReader yaml, Path baseDir) {
    this.yaml = yaml;
    this.baseDir = baseDir;
  }

  static HttpsSettings read(YamlReader yaml, NodeTuple tuple, Path baseDir, int plainPort) {
    if (tuple == null) {
      return HttpsSettings.off();
    }
    Map<String, NodeTuple> entries = yaml.mapping(tuple.getValueNode(), "https");
    yaml.rejectUnknown(entries, "https", KEYS);
    return new HttpsSection(yaml, baseDir).read(tuple.getValueNode(), entries, plainPort);
  }

  private HttpsSettings read(Node section, Map<String, NodeTuple> entries, int plainPort) {
    List<HttpsSettings.Listen> listen = new ArrayList<>();
    NodeTuple listenTuple = entries.get("listen");
    if (listenTuple == null) {
      yaml.problem(section, "https.listen", "is missing: the address of the https listener, such as 0.0.0.0:443");
    } else {
      for (String text : yaml.stringList(listenTuple.getValueNode(), "https.listen")) {
        HttpsSettings.Listen address = address(listenTuple.getValueNode(), text.trim());
        if (address == null) {
          continue;
        }
        if (address.port() == plainPort) {
          yaml.problem(listenTuple.getValueNode(), "https.listen", "port " + plainPort + " is the plain listen port");
        } else if (listen.contains(address)) {
          yaml.problem(listenTuple.getValueNode(), "https.listen", address + " is given twice");
        } else {
          listen.add(address);
        }
      }
    }
    // acme (read by AcmeSection) gets certificates for the names no file covers: files are then optional.
    List<CertificateSource> certificates = entries.containsKey("acme") && !entries.containsKey("certificates")
        ? List.of() : certificates(section, entries.get("certificates"));
    boolean redirect = true;
    if (entries.containsKey("redirect")) {
      Boolean value = yaml.bool(entries.get("redirect").getValueNode(), "https.redirect");
      redirect = value == null || value;
    }
    HttpsSettings.Hsts hsts = entries.containsKey("hsts") ? hsts(entries.get("hsts").getValueNode()) : null;
    return new HttpsSettings(listen, certificates, redirect, hsts);
  }

  private HttpsSettings.Listen address(Node node, String text) {
    int colon = text.lastIndexOf(':');
    String host = colon < 0 ? "0.0.0.0" : text.substring(0, colon).replaceAll("^\\[|]$", "");
    try {
      int port = Integer.parseInt(colon < 0 ? text : text.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return new HttpsSettings.Listen(host.isEmpty() ? "0.0.0.0" : host, port);
    } catch (NumberFormatException e) {
      yaml.problem(node, "https.listen", "must be host:port (or a list of them), such as 0.0.0.0:443, not '" + text + "'");
      return null;
    }
  }

  private List<CertificateSource> certificates(Node section, NodeTuple tuple) {
    List<CertificateSource> sources = new ArrayList<>();
    if (tuple == null || !(tuple.getValueNode() instanceof SequenceNode list) || list.getValue().isEmpty()) {
      yaml.problem(tuple == null ? section : tuple.getValueNode(), "https.certificates",
          "must list at least one certificate ({hosts: [...], cert: FILE, key: FILE}); the first is the default");
      return sources;
    }
    Map<String, Integer> claimed = new HashMap<>();
    for (int i = 0; i < list.getValue().size(); i++) {
      Node item = list.getValue().get(i);
      String key = "https.certificates[" + i + "]";
      Map<String, NodeTuple> entry = yaml.mapping(item, key);
      yaml.rejectUnknown(entry, key, CERTIFICATE_KEYS);
      List<String> hosts = new ArrayList<>();
      if (!entry.containsKey("hosts")) {
        yaml.problem(item, key + ".hosts", "is missing: the names this certificate is chosen for");
      } else {
        Node hostsNode = entry.get("hosts").getValueNode();
        for (String host : yaml.stringList(hostsNode, key + ".hosts")) {
          String h = ServedCertificate.normalize(host);
          String name = h.startsWith("*.") ? h.substring(2) : h;
          if (!HOST_NAME.matcher(name).matches() || name.contains("*")) {
            yaml.problem(hostsNode, key + ".hosts", "'" + host + "' is not a host name or *.name (one label)");
            continue;
          }
          Integer first = claimed.putIfAbsent(h, i);
          if (first != null) {
            yaml.warning(hostsNode, key + ".hosts", h + " is also in https.certificates[" + first + "], which wins");
          }
          hosts.add(h);
        }
      }
      Node certNode = entry.containsKey("cert") ? entry.get("cert").getValueNode() : null;
      Node keyNode = entry.containsKey("key") ? entry.get("key").getValueNode() : null;
      Path cert = file(item, certNode, key + ".cert");
      Path keyFile = file(item, keyNode, key + ".key");
      if (cert == null || keyFile == null || hosts.isEmpty()) {
        continue;
      }
      CertificateSource source = new CertificateSource(hosts, cert, keyFile);
      try {
        ServedCertificate loaded = CertificateFiles.load(source);
        String soon = CertificateFiles.expiryWarning(loaded, Instant.now());
        if (soon != null) {
          yaml.warning(certNode, key + ".cert", "the certificate " + soon);
        }
      } catch (CertificateFileException e) {
        boolean keyAtFault = e.file().equals(keyFile) && !e.file().equals(cert);
        yaml.problem(keyAtFault ? keyNode : certNode, key + (keyAtFault ? ".key" : ".cert"), e.getMessage());
      }
      sources.add(source);
    }
    return sources;
  }

  private Path file(Node item, Node node, String key) {
    if (node == null) {
      yaml.problem(item, key, "is missing: a PEM file, relative to the config file");
      return null;
    }
    String text = yaml.string(node, key);
    return text == null ? null : baseDir.resolve(text).normalize();
  }

  private HttpsSettings.Hsts hsts(Node node) {
    if (!(node instanceof MappingNode)) {
      Boolean on = yaml.bool(node, "https.hsts");
      return on != null && on ? new HttpsSettings.Hsts(PRELOAD_MIN, false, false) : null;
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, "https.hsts");
    yaml.rejectUnknown(entries, "https.hsts", HSTS_KEYS);
    Duration maxAge = PRELOAD_MIN;
    if (entries.containsKey("max-age")) {
      Node value = entries.get("max-age").getValueNode();
      String text = yaml.string(value, "https.hsts.max-age");
      if (text != null) {
        Matcher days = DAYS.matcher(text.trim().toLowerCase(Locale.ROOT));
        try {
          maxAge = days.matches() ? Duration.ofDays(Long.parseLong(days.group(1))) : Durations.parse(text);
        } catch (IllegalArgumentException e) {
          yaml.problem(value, "https.hsts.max-age", e.getMessage().replace("2h)", "2h, 365d)"));
        }
      }
    }
    boolean subdomains = flag(entries, "include-subdomains");
    boolean preload = flag(entries, "preload");
    if (preload && (!subdomains || maxAge.compareTo(PRELOAD_MIN) < 0)) {
      yaml.problem(node, "https.hsts.preload", "needs include-subdomains: true and a max-age of at least 365d "
          + "(hstspreload.org refuses less)");
    }
    return new HttpsSettings.Hsts(maxAge, subdomains, preload);
  }

  private boolean flag(Map<String, NodeTuple> entries, String name) {
    if (!entries.containsKey(name)) {
      return false;
    }
    Boolean value = yaml.bool(entries.get(name).getValueNode(), "https.hsts." + name);
    return value != null && value;
  }

  /** Whether some certificate names {@code host} (a tenant's host, or a template's {@code *.} pattern). */
  static boolean covered(HttpsSettings https, String host) {
    return https.certificates().stream().flatMap(c -> c.hosts().stream())
        .anyMatch(pattern -> ServedCertificate.covers(pattern, host));
  }
}
