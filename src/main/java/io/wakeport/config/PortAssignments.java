package io.wakeport.config;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Ports handed out from a range, remembered in {@code state-dir/ports.properties} so that a
 * tenant keeps its port across restarts and config edits. A new tenant starts looking at a slot
 * derived from its name, so even a lost file mostly reproduces the same ports. A save writes only
 * this object's own changes over what the file holds then (the loader of each config snapshot and
 * the tenants made from templates both remember ports there), as a whole new file renamed over the
 * old one.
 */
final class PortAssignments {

  private final Path file;
  private final Map<String, Integer> remembered = new TreeMap<>();
  /** Ports remembered for any name, kept out of new assignments so a returning tenant gets its own back. */
  private final Set<Integer> rememberedPorts = new java.util.HashSet<>();
  /** Changes not yet written: a port per key assigned, or null for a key given back. */
  private final Map<String, Integer> unsaved = new TreeMap<>();
  /** One writer of the file at a time in this JVM: each re-reads it and applies its own changes. */
  private static final Object FILE_LOCK = new Object();

  private PortAssignments(Path file) {
    this.file = file;
  }

  static PortAssignments open(Path stateDir) {
    PortAssignments ports = new PortAssignments(stateDir.resolve("ports.properties"));
    ports.remembered.putAll(read(ports.file));
    ports.rememberedPorts.addAll(ports.remembered.values());
    return ports;
  }

  private static Map<String, Integer> read(Path file) {
    Map<String, Integer> read = new TreeMap<>();
    if (Files.isRegularFile(file)) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(file)) {
        props.load(reader);
        props.forEach((k, v) -> {
          try {
            read.put((String) k, Integer.parseInt(((String) v).trim()));
          } catch (NumberFormatException ignored) {
            // a hand-edited bad line only loses that one memory; the port is assigned afresh
          }
        });
      } catch (IOException ignored) {
        // unreadable memory: assign afresh from the name-derived slots
      }
    }
    return read;
  }

  /** Every key remembered, with its port. */
  Map<String, Integer> remembered() {
    return java.util.Collections.unmodifiableMap(remembered);
  }

  Path file() {
    return file;
  }

  /** The port for {@code key} within [first, last] and not in {@code taken}; -1 when the range is full. */
  int assign(String key, int first, int last, Set<Integer> taken) {
    Integer known = remembered.get(key);
    if (known != null && known >= first && known <= last && !taken.contains(known)) {
      taken.add(known);
      return known;
    }
    int port = rememberNew(key, first, last, taken);
    if (port > 0) {
      taken.add(port);
    }
    return port;
  }

  /**
   * The port for {@code key} within [first, last] and not in {@code reserved} (which is left as
   * it is): its remembered one if that still qualifies, else the first free one from its
   * name-derived slot; -1 when the range is full.
   */
  int assignFrom(String key, int first, int last, Set<Integer> reserved) {
    Integer known = remembered.get(key);
    if (known != null && known >= first && known <= last && !reserved.contains(known)) {
      return known;
    }
    if (known != null) {
      forget(key);
    }
    return rememberNew(key, first, last, reserved);
  }

  /** Remembers for {@code key} the first port from its name-derived slot that is neither excluded nor remembered. */
  private int rememberNew(String key, int first, int last, Set<Integer> excluded) {
    int size = last - first + 1;
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    int start = (int) (crc.getValue() % size);
    for (int i = 0; i < size; i++) {
      int port = first + (start + i) % size;
      if (!excluded.contains(port) && !rememberedPorts.contains(port)) {
        remembered.put(key, port);
        rememberedPorts.add(port);
        unsaved.put(key, port);
        return port;
      }
    }
    return -1;
  }

  /** Forgets {@code key}'s port, so that another key may have it; returns it, or -1 if none was remembered. */
  int forget(String key) {
    Integer port = remembered.remove(key);
    if (port == null) {
      return -1;
    }
    unsaved.put(key, null);
    if (!remembered.containsValue(port)) {
      rememberedPorts.remove(port);
    }
    return port;
  }

  synchronized void saveQuietly() {
    try {
      save();
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(PortAssignments.class).warn("cannot remember ports in {}: {}", file, e.toString());
    }
  }

  void save() throws IOException {
    if (unsaved.isEmpty()) {
      return;
    }
    synchronized (FILE_LOCK) {
      Map<String, Integer> merged = read(file);
      unsaved.forEach((key, port) -> {
        if (port == null) {
          merged.remove(key);
        } else {
          merged.put(key, port);
        }
      });
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (Writer writer = Files.newBufferedWriter(tmp)) {
        writer.write("# Ports wakeport assigned from the range; edit only while wakeport is stopped.\n");
        for (Map.Entry<String, Integer> e : merged.entrySet()) {
          writer.write(e.getKey() + "=" + e.getValue() + "\n");
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    unsaved.clear();
  }
}
