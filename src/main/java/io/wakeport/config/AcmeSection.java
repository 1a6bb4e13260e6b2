package io.wakeport.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads {@code https.acme}: the ACME server, the account's contact, the server's own CA, the
 * renewal window, the attempt bound and on-demand issuance. The other keys of {@code https:}
 * ({@code listen}, {@code certificates}) belong to the https listener and are read there.
 */
final class AcmeSection {

  static final List<String> KEYS = List.of("directory", "email", "trust", "renew-before", "max-attempts-per-hour",
      "on-demand", "challenge");
  static final List<String> ON_DEMAND_KEYS = List.of("ask", "wait");

  private AcmeSection() {}

  /**
   * The {@code acme:} of {@code https:}, or null when there is none. {@code handshakeTimeout} (the
   * https listeners', {@code proxy.client-header-timeout}) bounds an on-demand wait to its half.
   */
  static AcmeSettings read(YamlReader yaml, NodeTuple https, Path baseDir, Path stateDir, Duration handshakeTimeout) {
    if (https == null || !(https.getValueNode() instanceof org.yaml.snakeyaml.nodes.MappingNode)) {
      return null; // HttpsSection says what is wrong with it
    }
    Map<String, NodeTuple> outer = yaml.mapping(https.getValueNode(), "https");
    NodeTuple tuple = outer.get("acme");
    if (tuple == null) {
      return null;
    }
    Map<String, NodeTuple> entries = yaml.mapping(tuple.getValueNode(), "https.acme");
    yaml.rejectUnknown(entries, "https.acme", KEYS);
    URI directory = null;
    if (!entries.containsKey("directory")) {
      yaml.problem(tuple.getValueNode(), "https.acme.directory",
          "is missing: the ACME server's directory URL, such as https://acme-v02.api.letsencrypt.org/directory");
    } else {
      directory = url(yaml, entries.get("directory").getValueNode(), "https.acme.directory");
    }
    String email = entries.containsKey("email") ? yaml.string(entries.get("email").getValueNode(), "https.acme.email")
        : null;
    if (email != null && !email.matches("[^@\\s]+@[^@\\s]+")) {
      yaml.problem(entries.get("email").getValueNode(), "https.acme.email", "must be an address such as ops@example.com");
    }
    Path trust = null;
    if (entries.containsKey("trust")) {
      String text = yaml.string(entries.get("trust").getValueNode(), "https.acme.trust");
      if (text != null) {
        trust = baseDir.resolve(text).normalize();
        if (!java.nio.file.Files.isReadable(trust)) {
          yaml.problem(entries.get("trust").getValueNode(), "https.acme.trust",
              "cannot read " + trust + ": it must be a PEM file of the CA certificates the ACME server's own is signed by");
        }
      }
    }
    Duration renewBefore = AcmeSettings.DEFAULT_RENEW_BEFORE;
    if (entries.containsKey("renew-before")) {
      Node value = entries.get("renew-before").getValueNode();
      String text = yaml.string(value, "https.acme.renew-before");
      // Days besides the usual units: certificates live for weeks (30d reads better than 720h).
      Duration read = text != null && text.trim().matches("\\d{1,5}d")
          ? Duration.ofDays(Long.parseLong(text.trim().replace("d", "")))
          : yaml.duration(value, "https.acme.renew-before");
      if (read != null) {
        renewBefore = read;
      }
    }
    int attempts = AcmeSettings.DEFAULT_MAX_ATTEMPTS_PER_HOUR;
    if (entries.containsKey("max-attempts-per-hour")) {
      Integer read = yaml.integer(entries.get("max-attempts-per-hour").getValueNode(),
          "https.acme.max-attempts-per-hour", 1, 1000);
      if (read != null) {
        attempts = read;
      }
    }
    AcmeSettings.OnDemand onDemand = null;
    if (entries.containsKey("on-demand")) {
      onDemand = onDemand(yaml, entries.get("on-demand").getValueNode(), handshakeTimeout);
    }
    AcmeSettings.Challenge challenge = AcmeSettings.Challenge.HTTP_01;
    if (entries.containsKey("challenge")) {
      Node value = entries.get("challenge").getValueNode();
      String text = yaml.string(value, "https.acme.challenge");
      if ("tls-alpn-01".equals(text)) {
        challenge = AcmeSettings.Challenge.TLS_ALPN_01;
      } else if (text != null && !"http-01".equals(text)) {
        yaml.problem(value, "https.acme.challenge", "must be http-01 (port 80, the plain listener) or tls-alpn-01 "
            + "(port 443, the https listener), not '" + text + "'");
      }
    }
    return new AcmeSettings(directory, email, trust, renewBefore, attempts, onDemand, challenge, stateDir);
  }

  private static AcmeSettings.OnDemand onDemand(YamlReader yaml, Node node, Duration handshakeTimeout) {
    if (!(node instanceof org.yaml.snakeyaml.nodes.MappingNode)) {
      Boolean on = yaml.bool(node, "https.acme.on-demand");
      return Boolean.TRUE.equals(on) ? new AcmeSettings.OnDemand(null, handshakeTimeout.dividedBy(2)) : null;
    }
    Map<String, NodeTuple> entries = yaml.mapping(node, "https.acme.on-demand");
    yaml.rejectUnknown(entries, "https.acme.on-demand", ON_DEMAND_KEYS);
    URI ask = entries.containsKey("ask") ? url(yaml, entries.get("ask").getValueNode(), "https.acme.on-demand.ask")
        : null;
    Duration wait = handshakeTimeout.dividedBy(2);
    if (entries.containsKey("wait")) {
      Node value = entries.get("wait").getValueNode();
      Duration read = yaml.duration(value, "https.acme.on-demand.wait");
      if (read != null && (read.isZero() || read.compareTo(Duration.ofMinutes(5)) > 0)) {
        yaml.problem(value, "https.acme.on-demand.wait", "must be longer than 0 and at most 5m, such as 30s");
      } else if (read != null) {
        wait = read;
        if (read.compareTo(handshakeTimeout.dividedBy(2)) > 0) {
          yaml.warning(value, "https.acme.on-demand.wait", "a handshake waits at most half the TLS handshake timeout "
              + "(proxy.client-header-timeout: " + Durations.format(handshakeTimeout) + "), so "
              + Durations.format(handshakeTimeout.dividedBy(2)) + ", then gets the default certificate while the order "
              + "goes on; raise client-header-timeout to wait longer");
        }
      }
    }
    return new AcmeSettings.OnDemand(ask, wait);
  }

  private static URI url(YamlReader yaml, Node node, String key) {
    String text = yaml.string(node, key);
    if (text == null) {
      return null;
    }
    try {
      URI uri = new URI(text.trim());
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // said below
    }
    yaml.problem(node, key, "must be an http(s) URL, not '" + text + "'");
    return null;
  }
}
