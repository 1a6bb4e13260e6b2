package io.wakeport.containment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Sends signals through kill(1): the JDK alone can send only TERM and KILL, and only to single processes. */
public final class Signals {

  private static final String KILL = find("kill");

  private Signals() {}

  /**
   * Sends {@code signal} (a name such as TERM) to {@code targets}: pids, or {@code -pgid} for a
   * process group. Targets that are already gone are skipped silently.
   */
  public static void send(String signal, Collection<String> targets) {
    if (targets.isEmpty()) {
      return;
    }
    if (KILL == null) {
      for (String target : targets) {
        if (!target.startsWith("-")) {
          ProcessHandle.of(Long.parseLong(target)).ifPresent(h -> {
            if (signal.equals("KILL")) h.destroyForcibly(); else h.destroy();
          });
        }
      }
      return;
    }
    List<String> cmd = new ArrayList<>(targets.size() + 4);
    cmd.addAll(List.of(KILL, "-s", signal, "--"));
    cmd.addAll(targets);
    try {
      // kill exits non-zero when some targets are already gone; that is expected here.
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      if (signal.equals("KILL")) {
        targets.stream().filter(t -> !t.startsWith("-"))
            .forEach(t -> ProcessHandle.of(Long.parseLong(t)).ifPresent(ProcessHandle::destroyForcibly));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The path of {@code name} in the system's bin directories, or null. */
  public static String find(String name) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
