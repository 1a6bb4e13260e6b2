package io.wakeport.containment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Enables a cgroup v2 controller for the instance cgroups. v2 lets a cgroup hand a controller to
 * its children only while it holds no process itself (the root excepted), so when wakeport's own
 * cgroup refuses (a systemd service with {@code Delegate=yes}), wakeport moves itself into a leaf
 * {@code wakeport.supervisor} beside its backends first, as systemd's documentation asks of
 * delegated services, but only when it is alone in its cgroup.
 */
final class V2Controllers {

  private V2Controllers() {}

  /** Null when {@code controller} is enabled for the children of {@code base}, or why it cannot be. */
  static String enable(Path own, Path base, String controller) {
    try {
      if (!enabledIn(own, controller)) {
        try {
          CgroupFiles.write(own.resolve("cgroup.subtree_control"), "+" + controller);
        } catch (IOException busy) {
          String moved = moveSelfToLeaf(own);
          if (moved != null) {
            return moved;
          }
          CgroupFiles.write(own.resolve("cgroup.subtree_control"), "+" + controller);
        }
      }
      if (!enabledIn(base, controller)) {
        CgroupFiles.write(base.resolve("cgroup.subtree_control"), "+" + controller);
      }
      return null;
    } catch (IOException e) {
      return "cannot enable it in cgroup v2 " + own + " (" + e.getMessage() + ")";
    }
  }

  private static boolean enabledIn(Path dir, String controller) throws IOException {
    String text = Files.readString(dir.resolve("cgroup.subtree_control")).trim();
    return List.of(text.split(" ")).contains(controller);
  }

  private static String moveSelfToLeaf(Path own) throws IOException {
    List<String> procs = Files.readAllLines(own.resolve("cgroup.procs"));
    String self = Long.toString(ProcessHandle.current().pid());
    if (procs.size() != 1 || !procs.get(0).trim().equals(self)) {
      return "wakeport's cgroup " + own + " holds other processes, so it cannot hand controllers to its"
          + " children (run wakeport in a cgroup of its own, such as a systemd service with Delegate=yes)";
    }
    Path leaf = own.resolve("wakeport.supervisor");
    Files.createDirectories(leaf);
    CgroupFiles.write(leaf.resolve("cgroup.procs"), self);
    return null;
  }
}
