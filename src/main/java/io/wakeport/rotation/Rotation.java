package io.wakeport.rotation;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Size-based rotation of a log file into numbered copies: {@code <file>.1} is the newest,
 * {@code <file>.<keep>} the oldest, and older ones are deleted. Blocking file I/O.
 */
public final class Rotation {

  private Rotation() {}

  /**
   * For a file wakeport writes itself and can reopen: renames it to {@code <file>.1}. The caller
   * closes it first and opens a fresh one after. With {@code keep} 0 the content is deleted.
   */
  public static void renameAway(Path file, int keep) throws IOException {
    shift(file, keep);
    if (keep == 0) {
      Files.deleteIfExists(file);
    } else {
      Files.move(file, numbered(file, 1), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * For a file another process holds open in append mode: copies it to {@code <file>.1} and
   * truncates it in place (logrotate's copytruncate). The writer then continues at the new end;
   * lines written between copy and truncate are lost, the price of not signalling the writer.
   */
  public static void copyTruncate(Path file, int keep) throws IOException {
    shift(file, keep);
    if (keep > 0) {
      Files.copy(file, numbered(file, 1), StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(0);
    }
  }

  /** {@code <file>.<n>}. */
  public static Path numbered(Path file, int n) {
    return file.resolveSibling(file.getFileName() + "." + n);
  }

  /** Makes room for a new {@code .1}: drops {@code .<keep>} and moves each other copy one number up. */
  private static void shift(Path file, int keep) throws IOException {
    if (keep < 0) {
      throw new IllegalArgumentException("keep must be 0 or more, not " + keep);
    }
    Files.deleteIfExists(numbered(file, Math.max(keep, 1)));
    for (int n = keep - 1; n >= 1; n--) {
      Path from = numbered(file, n);
      if (Files.exists(from)) {
        Files.move(from, numbered(file, n + 1), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
