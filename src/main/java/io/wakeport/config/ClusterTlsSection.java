package io.wakeport.config;

import io.wakeport.tls.CertificateFileException;
import io.wakeport.tls.CertificateFiles;
import io.wakeport.tls.CertificateSource;
import io.wakeport.tls.ServedCertificate;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads {@code cluster.tls} ({@code {cert: FILE, key: FILE, ca: FILE}}, relative to the config
 * file) and checks what the other nodes will: the key is the certificate's, the certificate is
 * signed by the ca and names this node's forward-listen host. Each fault is reported at its line.
 */
final class ClusterTlsSection {

  private static final List<String> KEYS = List.of("cert", "key", "ca");

  private ClusterTlsSection() {}

  /** Null without {@code tls:}, or when it has a fault (reported). */
  static ClusterSettings.Tls read(YamlReader yaml, NodeTuple tuple, Path baseDir, String forwardHost) {
    if (tuple == null) {
      return null;
    }
    Node section = tuple.getValueNode();
    Map<String, NodeTuple> entries = yaml.mapping(section, "cluster.tls");
    yaml.rejectUnknown(entries, "cluster.tls", KEYS);
    Path[] files = new Path[KEYS.size()];
    for (int i = 0; i < files.length; i++) {
      String key = "cluster.tls." + KEYS.get(i);
      if (!entries.containsKey(KEYS.get(i))) {
        yaml.problem(section, key, "is missing: mutual TLS needs cert, key and ca (PEM files, relative to the config file)");
      } else {
        String text = yaml.string(entries.get(KEYS.get(i)).getValueNode(), key);
        files[i] = text == null ? null : baseDir.resolve(text).normalize();
      }
    }
    if (files[0] == null || files[1] == null || files[2] == null) {
      return null;
    }
    Node certNode = entries.get("cert").getValueNode();
    ServedCertificate own;
    List<X509Certificate> authorities;
    try {
      own = CertificateFiles.load(new CertificateSource(List.of(), files[0], files[1]));
    } catch (CertificateFileException e) {
      boolean keyAtFault = e.file().equals(files[1]) && !e.file().equals(files[0]);
      yaml.problem(keyAtFault ? entries.get("key").getValueNode() : certNode,
          keyAtFault ? "cluster.tls.key" : "cluster.tls.cert", e.getMessage());
      return null;
    }
    try {
      authorities = CertificateFiles.readChain(files[2]);
    } catch (CertificateFileException e) {
      yaml.problem(entries.get("ca").getValueNode(), "cluster.tls.ca", e.getMessage());
      return null;
    }
    String untrusted = CertificateFiles.untrusted(own.chain(), authorities);
    if (untrusted != null) {
      yaml.problem(certNode, "cluster.tls.cert", files[0] + " is not trusted by the ca in " + files[2]
          + ", so the other nodes would refuse it: " + untrusted);
      return null;
    }
    // Nodes check the name they connect to: the host of forward-listen, which nodes advertise as is.
    if (forwardHost != null && !forwardHost.equals("0.0.0.0") && !forwardHost.equals("::")
        && !CertificateFiles.names(own.leaf(), forwardHost)) {
      yaml.problem(certNode, "cluster.tls.cert", files[0] + " does not name " + forwardHost
          + ", the forward-listen host the other nodes check it against (an address needs an IP subjectAltName)");
      return null;
    }
    String soon = CertificateFiles.expiryWarning(own, Instant.now());
    if (soon != null) {
      yaml.warning(certNode, "cluster.tls.cert", "the certificate " + soon);
    }
    return new ClusterSettings.Tls(files[0], files[1], files[2]);
  }
}
