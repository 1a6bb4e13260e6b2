package io.wakeport.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;

/**
 * The files seen changing since the last reload, and whether they have all been still for a quiet
 * period: no change event, and the same size, mtime and inode as at their last event. The second
 * test catches writes that raised no event (events lost or merged, some network file systems).
 * Not thread-safe: the watcher's thread alone uses it.
 */
final class QuietFiles {

  private final Map<Path, Stamp> changed = new HashMap<>();
  private long lastChange;

  /** {@code path} changed at {@code now} (System.nanoTime()): the quiet period starts again. */
  void changed(Path path, long now) {
    changed.put(path, Stamp.of(path));
    lastChange = now;
  }

  boolean any() {
    return !changed.isEmpty();
  }

  /** Nanoseconds until the quiet period since the last change is over (0 once it is). */
  long remaining(long quietNanos, long now) {
    return Math.max(0, lastChange + quietNanos - now);
  }

  /**
   * Called once the quiet period has passed without events: true when every file still looks as
   * it did, and the set is then cleared; otherwise the files that moved restart the period.
   */
  boolean settle(long now) {
    boolean still = true;
    for (Map.Entry<Path, Stamp> e : changed.entrySet()) {
      Stamp current = Stamp.of(e.getKey());
      if (!current.equals(e.getValue())) {
        e.setValue(current);
        still = false;
      }
    }
    if (still) {
      changed.clear();
    } else {
      lastChange = now;
    }
    return still;
  }

  /** What a file looks like from outside; a missing file has a stamp too (a delete is a change). */
  private record Stamp(long size, FileTime modified, Object inode) {
    private static final Stamp ABSENT = new Stamp(-1, null, null);

    static Stamp of(Path path) {
      try {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        return new Stamp(a.size(), a.lastModifiedTime(), a.fileKey());
      } catch (IOException e) {
        return ABSENT;
      }
    }
  }
}
