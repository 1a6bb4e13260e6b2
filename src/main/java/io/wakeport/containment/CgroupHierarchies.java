package io.wakeport.containment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cgroup hierarchies mounted here and wakeport's own cgroup in each, from
 * {@code /proc/self/mountinfo} and {@code /proc/self/cgroup}. A machine may have cgroup v2 only,
 * v1 only, or both ("hybrid": v2 mounted beside v1 controllers, often at {@code unified}).
 */
final class CgroupHierarchies {

  /**
   * One mounted hierarchy.
   *
   * @param version     1 or 2
   * @param ownDir      wakeport's own cgroup in it
   * @param controllers for v1, what the mount carries ({@code memory}, {@code cpu}, {@code name=systemd}...);
   *                    for v2, what {@code cgroup.controllers} of the own cgroup offers
   */
  record Hierarchy(int version, Path ownDir, Set<String> controllers) {}

  private CgroupHierarchies() {}

  static List<Hierarchy> discover() {
    List<String> mountinfo;
    List<String> own;
    try {
      mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
      own = Files.readAllLines(Path.of("/proc/self/cgroup"));
    } catch (IOException e) {
      return List.of();
    }
    // Own cgroup path per hierarchy: "" for v2, else the sorted controller list of the v1 line.
    Map<Set<String>, String> ownPaths = new HashMap<>();
    String ownV2 = null;
    for (String line : own) {
      String[] f = line.split(":", 3);
      if (f.length < 3) continue;
      if (f[0].equals("0") && f[1].isEmpty()) {
        ownV2 = f[2];
      } else {
        ownPaths.put(Set.of(f[1].split(",")), f[2]);
      }
    }
    List<Hierarchy> found = new ArrayList<>();
    for (String line : mountinfo) {
      int dash = line.indexOf(" - ");
      if (dash < 0) continue;
      String[] pre = line.substring(0, dash).split(" ");
      String[] post = line.substring(dash + 3).split(" ");
      if (pre.length < 5 || post.length < 3) continue;
      String root = unescape(pre[3]);
      Path mountPoint = Path.of(unescape(pre[4]));
      if (post[0].equals("cgroup2") && ownV2 != null) {
        Path dir = within(mountPoint, root, ownV2);
        if (dir != null) {
          found.add(new Hierarchy(2, dir, readControllers(dir)));
        }
      } else if (post[0].equals("cgroup")) {
        Set<String> controllers = new LinkedHashSet<>();
        for (String opt : post[2].split(",")) {
          if (!opt.equals("rw") && !opt.equals("ro") && !opt.contains("relatime") && !opt.startsWith("release_agent")
              && !opt.equals("clone_children") && !opt.equals("noprefix") && !opt.startsWith("xattr")) {
            controllers.add(opt);
          }
        }
        String path = ownPaths.get(controllers);
        Path dir = path == null ? null : within(mountPoint, root, path);
        if (dir != null && pre[5].startsWith("rw")) {
          found.add(new Hierarchy(1, dir, controllers));
        }
      }
    }
    return found;
  }

  /** Where {@code path} (as /proc/self/cgroup gives it) lies under a mount of {@code root}, or null when outside it. */
  private static Path within(Path mountPoint, String root, String path) {
    if (root.equals("/")) {
      return mountPoint.resolve(path.substring(1));
    }
    if (path.equals(root)) {
      return mountPoint;
    }
    if (path.startsWith(root + "/")) {
      return mountPoint.resolve(path.substring(root.length() + 1));
    }
    // A cgroup namespace shows paths relative to its own root, which is the mount's root.
    return path.equals("/") ? mountPoint : null;
  }

  static Set<String> readControllers(Path dir) {
    try {
      String text = Files.readString(dir.resolve("cgroup.controllers")).trim();
      return text.isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(text.split(" ")));
    } catch (IOException e) {
      return Set.of();
    }
  }

  private static String unescape(String field) {
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }
}
