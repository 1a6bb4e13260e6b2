package io.wakeport.containment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What Linux's {@code /proc} says about processes. Blocking reads; a process that vanishes mid-read is skipped. */
final class ProcFs {

  static final Path PROC = Path.of("/proc");
  /** USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on every Linux architecture wakeport runs on. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  private ProcFs() {}

  static boolean available() {
    return Files.isReadable(PROC.resolve("self/status"));
  }

  /** Every live pid. */
  static List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC)) {
      for (Path dir : dirs) {
        String name = dir.getFileName().toString();
        if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
          try {
            pids.add(Long.parseLong(name));
          } catch (NumberFormatException ignored) {
            // not a process directory
          }
        }
      }
    } catch (IOException ignored) {
      // no /proc: no processes to report
    }
    return pids;
  }

  /** Processes whose environment holds {@code entry} ({@code NAME=value}) exactly, except zombies. */
  static Set<Long> withEnvironment(String entry) {
    byte[] needle = (entry + "\0").getBytes(StandardCharsets.UTF_8);
    Set<Long> found = new HashSet<>();
    for (long pid : pids()) {
      byte[] env;
      try {
        env = Files.readAllBytes(PROC.resolve(pid + "/environ"));
      } catch (IOException e) {
        continue; // gone, or another user's
      }
      if (startsEntry(env, needle) && !zombie(pid)) {
        found.add(pid);
      }
    }
    return found;
  }

  /** Whether {@code needle} occurs in {@code env} at the start of an entry. */
  private static boolean startsEntry(byte[] env, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= env.length; i++) {
      if (i > 0 && env[i - 1] != 0) {
        continue;
      }
      for (int j = 0; j < needle.length; j++) {
        if (env[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * Whether {@code pid} is gone or a zombie. A thread-group leader that has exited shows 'Z' while
   * its other threads still run (and hold its files, listening sockets included), so a 'Z' leader
   * counts as gone only when none of its threads is left.
   */
  static boolean zombie(long pid) {
    String stat = stat(pid);
    if (stat == null) {
      return true;
    }
    if (state(stat) != 'Z') {
      return false;
    }
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(PROC.resolve(pid + "/task"))) {
      for (Path task : tasks) {
        try {
          if (state(Files.readString(task.resolve("stat"))) != 'Z') {
            return false;
          }
        } catch (IOException gone) {
          // that thread has exited meanwhile
        }
      }
    } catch (IOException gone) {
      // reaped meanwhile
    }
    return true;
  }

  private static char state(String stat) {
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }

  private static String stat(long pid) {
    try {
      return Files.readString(PROC.resolve(pid + "/stat"));
    } catch (IOException e) {
      return null;
    }
  }

  /** Resident memory of {@code pid} in bytes, or 0 when it is gone. */
  static long rssBytes(long pid) {
    String value = statusField(pid, "VmRSS:");
    return value == null ? 0 : Long.parseLong(value.replace("kB", "").trim()) * 1024;
  }

  /** User and system CPU time {@code pid} has used, or 0 when it is gone. */
  static long cpuNanos(long pid) {
    String stat = stat(pid);
    if (stat == null) {
      return 0;
    }
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK;
  }

  /** The effective user id of {@code pid}, or -1 when it is gone. */
  static int uid(long pid) {
    String value = statusField(pid, "Uid:");
    return value == null ? -1 : Integer.parseInt(value.trim().split("\\s+")[1]);
  }

  static int ownUid() {
    return uid(ProcessHandle.current().pid());
  }

  private static String statusField(long pid, String name) {
    try {
      for (String line : Files.readAllLines(PROC.resolve(pid + "/status"))) {
        if (line.startsWith(name)) {
          return line.substring(name.length()).trim();
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // gone
    }
    return null;
  }

  /** Whether one of {@code pid}'s open files is the socket with {@code inode}. */
  static boolean holdsSocket(long pid, long inode) {
    String target = "socket:[" + inode + "]";
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(PROC.resolve(pid + "/fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(target)) {
            return true;
          }
        } catch (IOException ignored) {
          // closed meanwhile
        }
      }
    } catch (IOException ignored) {
      // gone, or another user's
    }
    return false;
  }

  /** The name of user {@code uid} from /etc/passwd, or {@code uid N}. */
  static String userName(int uid) {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
        String[] f = line.split(":", 4);
        if (f.length > 2 && f[2].equals(Integer.toString(uid))) {
          return f[0] + " (uid " + uid + ")";
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // no passwd file: the number will do
    }
    return "uid " + uid;
  }

  /** The command line of {@code pid}, spaces between arguments, for logs; "?" when gone. */
  static String commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(PROC.resolve(pid + "/cmdline"));
      String text = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
      return text.length() > 120 ? text.substring(0, 120) + "…" : text;
    } catch (IOException e) {
      return "?";
    }
  }
}
