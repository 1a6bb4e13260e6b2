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
 * derived from its name, so even a lost file mostly reproduces the same ports.
 */
final class PortAssignments {

  private final Path file;
  private final Map<String, Integer> remembered = new TreeMap<>();
  /** Ports remembered for any name, kept out of new assignments so a returning tenant gets its own back. */
  private final Set<Integer> rememberedPorts = new java.util.HashSet<>();
  private boolean changed;

  private PortAssignments(Path file) {
    this.file = file;
  }

  static PortAssignments open(Path stateDir) {
    PortAssignments ports = new PortAssignments(stateDir.resolve("ports.properties"));
    if (Files.isRegularFile(ports.file)) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(ports.file)) {
        props.load(reader);
        props.forEach((k, v) -> {
          try {
            int port = Integer.parseInt(((String) v).trim());
            ports.remembered.put((String) k, port);
            ports.rememberedPorts.add(port);
          } catch (NumberFormatException ignored) {
            // a hand-edited bad line only loses that one memory; the port is assigned afresh
          }
        });
      } catch (IOException ignored) {
        // unreadable memory: assign afresh from the name-derived slots
      }
    }
    return ports;
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
    int size = last - first + 1;
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    int start = (int) (crc.getValue() % size);
    for (int i = 0; i < size; i++) {
      int port = first + (start + i) % size;
      if (!taken.contains(port) && !rememberedPorts.contains(port)) {
        taken.add(port);
        remembered.put(key, port);
        rememberedPorts.add(port);
        changed = true;
        return port;
      }
    }
    return -1;
  }

  synchronized void saveQuietly() {
    try {
      save();
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(PortAssignments.class).warn("cannot remember ports in {}: {}", file, e.toString());
    }
  }

  void save() throws IOException {
    if (!changed) {
      return;
    }
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer writer = Files.newBufferedWriter(tmp)) {
      writer.write("# Ports wakeport assigned from the range; edit only while wakeport is stopped.\n");
      for (Map.Entry<String, Integer> e : remembered.entrySet()) {
        writer.write(e.getKey() + "=" + e.getValue() + "\n");
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    changed = false;
  }
}
