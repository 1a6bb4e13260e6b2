package io.wakeport.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's ephemeral port range: the local ports it hands to outgoing connections (and to
 * binds on port 0). A backend port inside it can be taken by any outgoing connection on the
 * machine, and the backend then fails to bind. Ports listed in {@code ip_local_reserved_ports} are
 * never handed out, so they are safe.
 *
 * @param first    lowest ephemeral port
 * @param last     highest ephemeral port
 * @param reserved ranges exempted by {@code net.ipv4.ip_local_reserved_ports}, each {first, last}
 */
public record KernelPorts(int first, int last, List<int[]> reserved) {

  private static final Path PROC = Path.of("/proc/sys/net/ipv4");

  /** This machine's ranges, or null where there is no such file (not Linux) or it cannot be read. */
  public static KernelPorts current() {
    return read(PROC);
  }

  static KernelPorts read(Path dir) {
    try {
      String[] range = text(dir.resolve("ip_local_port_range")).trim().split("\\s+");
      int first = Integer.parseInt(range[0]);
      int last = Integer.parseInt(range[1]);
      List<int[]> reserved = new ArrayList<>();
      Path reservedFile = dir.resolve("ip_local_reserved_ports");
      if (Files.isReadable(reservedFile)) {
        for (String part : text(reservedFile).trim().split(",")) {
          if (part.isBlank()) continue;
          String[] ends = part.trim().split("-");
          reserved.add(new int[] {Integer.parseInt(ends[0]), Integer.parseInt(ends[ends.length - 1])});
        }
      }
      return new KernelPorts(first, last, reserved);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Not Files.readString: it trusts the size /proc reports (0) and returns a cut value. */
  private static String text(Path file) throws IOException {
    return String.join(" ", Files.readAllLines(file));
  }

  /**
   * The part of {@code lo-hi} that lies in the ephemeral range, as {lo, hi}; null when none does, or
   * when every such port is reserved (the operator has already exempted them).
   */
  public int[] overlap(int lo, int hi) {
    int a = Math.max(lo, first);
    int b = Math.min(hi, last);
    if (a > b) return null;
    for (int p = a; p <= b; p++) {
      if (!isReserved(p)) return new int[] {a, b};
    }
    return null;
  }

  private boolean isReserved(int port) {
    for (int[] r : reserved) {
      if (port >= r[0] && port <= r[1]) return true;
    }
    return false;
  }

  /** Whether {@code port} may be handed to an outgoing connection. */
  public boolean contains(int port) {
    return overlap(port, port) != null;
  }

  public String range() {
    return first + "-" + last;
  }

  /** A range of {@code size} ports below the ephemeral range to suggest instead, or null if none fits above 1023. */
  public String suggestBelow(int size) {
    if (20000 + size <= first) return 20000 + "-" + (20000 + size - 1); // wakeport's default range
    if (1024 + size <= first) return (first - size) + "-" + (first - 1);
    return null;
  }
}
