package io.wakeport.containment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Who listens on a loopback port: the socket's owner (uid) and inode, then the process holding
 * it. Only sockets that would take a connection to 127.0.0.1 count: bound to 127.0.0.1, to any
 * address, or to :: (dual stack). The sockets come from {@code ss} (iproute2), which asks the
 * kernel for listening sockets only, through sock_diag; without it, from {@code /proc/net/tcp}
 * and {@code tcp6}, which list every socket of the machine: 10-20 ms with a few hundred, and it
 * grows with the connections.
 */
public final class ListenerOwners {

  /** A listening socket; {@code pid} is -1 until {@link #withPid} finds the process. */
  public record Listener(long inode, int uid, long pid) {

    Listener withPid(long pid) {
      return new Listener(inode, uid, pid);
    }

    /** For logs: "pid 1234 (python3 -m http.server 20001) of user nobody (uid 65534)". */
    public String describe() {
      String user = ProcFs.userName(uid);
      return pid < 0 ? "a process of user " + user + " (pid not visible to wakeport)"
          : "pid " + pid + " (" + ProcFs.commandLine(pid) + ") of user " + user;
    }
  }

  private static final String LOOPBACK_V4 = "0100007F";
  private static final String ANY_V4 = "00000000";
  private static final String ANY_V6 = "00000000000000000000000000000000";
  private static final String MAPPED_LOOPBACK_V6 = "0000000000000000FFFF00000100007F";
  private static final String LISTEN = "0A";

  private ListenerOwners() {}

  /** The uid wakeport runs as. */
  public static int ownUid() {
    return ProcFs.ownUid();
  }

  /** Listening sockets that take connections to 127.0.0.1:{@code port}, without their pids. */
  public static List<Listener> on(int port) {
    if (SS != null) {
      List<Listener> listed = fromSs(port);
      if (listed != null) {
        return listed;
      }
    }
    List<Listener> found = new ArrayList<>();
    String hexPort = String.format(Locale.ROOT, "%04X", port);
    read(Path.of("/proc/net/tcp"), hexPort, found, false);
    read(Path.of("/proc/net/tcp6"), hexPort, found, true);
    return found;
  }

  private static final String SS = Signals.find("ss");
  private static final List<String> LOOPBACK_TAKERS = List.of("127.0.0.1", "0.0.0.0", "*", "[::]", "[::ffff:127.0.0.1]");

  /** {@code ss -Hltne sport = :PORT}, or null when it cannot be run or read. */
  private static List<Listener> fromSs(int port) {
    try {
      Process p = new ProcessBuilder(SS, "-Hltne", "sport", "=", ":" + port).redirectErrorStream(false)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(2, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return null;
      }
      List<Listener> found = new ArrayList<>();
      String suffix = ":" + port;
      for (String line : out.split("\n")) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 5 || !f[3].endsWith(suffix)) continue;
        String address = f[3].substring(0, f[3].length() - suffix.length());
        if (address.contains("%")) {
          address = address.substring(0, address.indexOf('%')); // "0.0.0.0%lo": bound to a device
        }
        if (!LOOPBACK_TAKERS.contains(address)) continue;
        int uid = 0; // ss leaves uid out when it is 0
        long inode = -1;
        for (String token : f) {
          if (token.startsWith("uid:")) uid = Integer.parseInt(token.substring(4));
          if (token.startsWith("ino:")) inode = Long.parseLong(token.substring(4));
        }
        if (inode < 0) {
          return null; // not the output this parser knows
        }
        found.add(new Listener(inode, uid, -1));
      }
      return found;
    } catch (IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void read(Path table, String hexPort, List<Listener> into, boolean v6) {
    List<String> lines;
    try {
      lines = Files.readAllLines(table);
    } catch (IOException e) {
      return; // no IPv6, or no /proc
    }
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).trim().split("\\s+");
      if (f.length < 10 || !f[3].equals(LISTEN)) continue;
      int colon = f[1].indexOf(':');
      String address = f[1].substring(0, colon);
      if (!f[1].substring(colon + 1).equals(hexPort)) continue;
      boolean takesLoopback = v6 ? address.equals(ANY_V6) || address.equals(MAPPED_LOOPBACK_V6)
          : address.equals(LOOPBACK_V4) || address.equals(ANY_V4);
      if (takesLoopback) {
        into.add(new Listener(Long.parseLong(f[9]), Integer.parseInt(f[7]), -1));
      }
    }
  }

  /** {@code listener} with the pid among {@code candidates} that holds it, if one does. */
  public static Listener heldBy(Listener listener, Collection<Long> candidates) {
    for (long pid : candidates) {
      if (ProcFs.holdsSocket(pid, listener.inode())) {
        return listener.withPid(pid);
      }
    }
    return listener;
  }

  /** {@code listener} with the pid of any process that holds it, if wakeport may see it (a scan of /proc). */
  public static Listener find(Listener listener) {
    return heldBy(listener, ProcFs.pids());
  }
}
