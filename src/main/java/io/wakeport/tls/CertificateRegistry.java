package io.wakeport.tls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The certificates the https listeners serve, chosen by server name (SNI): an exact name wins over
 * a {@code *.} wildcard, the certificates from files win over those put at run time for the same
 * name, and the first file's certificate is the default for no or an unknown name.
 *
 * <p>Thread-safe. Lookups run on the event loops inside TLS handshakes and never block: they read
 * one immutable index through a volatile field. Changes (a reloaded file, {@link #put}) build a new
 * index; handshakes that start afterwards see it, connections already open keep their session.
 */
public final class CertificateRegistry {

  private List<ServedCertificate> fromFiles = List.of();
  /** Put at run time, by each of their names; guarded by this. */
  private final Map<String, ServedCertificate> atRunTime = new LinkedHashMap<>();
  private volatile Index index = Index.build(List.of(), List.of(), null);

  /** Replaces the certificates read from files (in config order: the first is the default). */
  public synchronized void replaceFromFiles(List<ServedCertificate> certificates) {
    fromFiles = List.copyOf(certificates);
    rebuild();
  }

  /** Serves {@code certificate} for its hosts, replacing what was put for any of them before. */
  public synchronized void put(ServedCertificate certificate) {
    if (certificate.hosts().stream().allMatch(h -> certificate.equals(atRunTime.get(h)))) {
      return; // put already, or an equal one (an on-demand answer is handed over twice): no new index
    }
    for (String host : certificate.hosts()) {
      atRunTime.put(host, certificate);
    }
    rebuild();
  }

  /**
   * Stops serving the certificate put at run time for {@code host}, for all of its names (a
   * certificate that lost some of them to a later {@link #put} keeps none); files' certificates stay.
   */
  public synchronized boolean remove(String host) {
    ServedCertificate removed = atRunTime.get(ServedCertificate.normalize(host));
    if (removed == null) {
      return false;
    }
    atRunTime.values().removeIf(c -> c == removed);
    rebuild();
    return true;
  }

  /**
   * ACME TLS-ALPN-01 validation certificates (RFC 8737), by name: served only to a handshake that
   * negotiated {@code acme-tls/1}, never to a client's, and only while their challenge is pending.
   */
  private final Map<String, ServedCertificate> alpnChallenges = new java.util.concurrent.ConcurrentHashMap<>();

  /** Answers {@code acme-tls/1} handshakes for {@code certificate}'s hosts with it. */
  public void putAlpnChallenge(ServedCertificate certificate) {
    certificate.hosts().forEach(h -> alpnChallenges.put(h, certificate));
  }

  public void removeAlpnChallenge(String host) {
    alpnChallenges.remove(ServedCertificate.normalize(host));
  }

  /** The validation certificate for {@code serverName}, or null. */
  ServedCertificate alpnChallenge(String serverName) {
    return serverName == null ? null : alpnChallenges.get(ServedCertificate.normalize(serverName));
  }

  /** The certificate that covers {@code serverName}, or null when none does (the default is not considered). */
  public ServedCertificate find(String serverName) {
    return serverName == null ? null : index.find(ServedCertificate.normalize(serverName));
  }

  /** What a handshake for {@code serverName} (null: none sent) is served: its own certificate, else the default. */
  public ServedCertificate select(String serverName) {
    ServedCertificate found = find(serverName);
    return found != null ? found : index.fallback;
  }

  /**
   * The alias of what a handshake for {@code serverName} is served, {@link #select} and
   * {@link #aliasOf} from one index: a change between the two cannot leave a handshake with a
   * certificate the newer index no longer has (and so no alias). Null when none is usable.
   */
  String selectAlias(String serverName, java.util.function.Predicate<ServedCertificate> usable) {
    Index current = index;
    ServedCertificate found = serverName == null ? null : current.find(ServedCertificate.normalize(serverName));
    ServedCertificate chosen = found != null ? found : current.fallback;
    return chosen != null && usable.test(chosen) ? current.aliases.get(chosen) : null;
  }

  /** The certificate for no or an unknown server name: the first file's; null while there is none. */
  public ServedCertificate defaultCertificate() {
    return index.fallback;
  }

  /** Every certificate served now, files' first. */
  public List<ServedCertificate> all() {
    return List.copyOf(index.all);
  }

  private void rebuild() {
    List<ServedCertificate> runtime = new ArrayList<>();
    atRunTime.values().stream().distinct().forEach(runtime::add);
    index = Index.build(fromFiles, runtime, index);
  }

  /** The key manager's handle on a certificate, stable while it is served (and one change after). */
  String aliasOf(ServedCertificate certificate) {
    return index.aliases.get(certificate);
  }

  ServedCertificate byAlias(String alias) {
    Index current = index;
    ServedCertificate found = current.byAlias.get(alias);
    // A handshake that chose an alias just before a change still finds its certificate.
    return found != null || current.previous == null ? found : current.previous.get(alias);
  }

  /** One immutable view; a handshake reads one of them from start to end of its lookup. */
  private static final class Index {
    private static long nextAlias;

    final Map<String, ServedCertificate> exact = new HashMap<>();
    /** By the suffix after {@code *.}. */
    final Map<String, ServedCertificate> wildcard = new HashMap<>();
    final Map<ServedCertificate, String> aliases = new IdentityHashMap<>();
    final Map<String, ServedCertificate> byAlias = new HashMap<>();
    final Map<String, ServedCertificate> previous;
    final List<ServedCertificate> all = new ArrayList<>();
    ServedCertificate fallback;

    private Index(Map<String, ServedCertificate> previous) {
      this.previous = previous;
    }

    static synchronized Index build(List<ServedCertificate> files, List<ServedCertificate> runtime, Index before) {
      Index index = new Index(before == null ? null : before.byAlias);
      for (List<ServedCertificate> group : List.of(files, runtime)) {
        for (ServedCertificate c : group) {
          index.all.add(c);
          String alias = before != null && before.aliases.containsKey(c) ? before.aliases.get(c) : "wakeport-" + nextAlias++;
          index.aliases.put(c, alias);
          index.byAlias.put(alias, c);
          for (String host : c.hosts()) {
            if (host.startsWith("*.")) {
              index.wildcard.putIfAbsent(host.substring(2), c);
            } else {
              index.exact.putIfAbsent(host, c);
            }
          }
        }
      }
      index.fallback = !files.isEmpty() ? files.get(0) : runtime.isEmpty() ? null : runtime.get(0);
      return index;
    }

    ServedCertificate find(String name) {
      ServedCertificate c = exact.get(name);
      if (c == null) {
        int dot = name.indexOf('.');
        if (dot > 0) {
          c = wildcard.get(name.substring(dot + 1));
        }
      }
      return c;
    }
  }
}
