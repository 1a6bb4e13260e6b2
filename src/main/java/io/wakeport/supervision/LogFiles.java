package io.wakeport.supervision;

import io.wakeport.rotation.Rotation;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Backend logs. A backend writes its stdout and stderr straight into {@code logs/<name>.log}
 * (opened in append mode by the launcher), so its output does not depend on wakeport staying up:
 * an adopted backend keeps logging. Blocking file I/O: call from worker threads. Public for the
 * admin API's log tail.
 */
public final class LogFiles {

  private static final int TAIL_BYTES = 8192;

  private LogFiles() {}

  /** The last {@code count} lines of {@code file}, oldest first; empty when there is none. */
  public static List<String> tail(Path file, int count) {
    return tail(file, count, TAIL_BYTES);
  }

  /** As {@link #tail(Path, int)}, reading at most the last {@code maxBytes} of the file. */
  public static List<String> tail(Path file, int count, int maxBytes) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      int n = (int) Math.min(length, maxBytes);
      byte[] bytes = new byte[n];
      raf.seek(length - n);
      raf.readFully(bytes);
      List<String> lines = new ArrayList<>(Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\n")));
      if (n == maxBytes && !lines.isEmpty()) {
        lines.remove(0); // probably cut in the middle
      }
      lines.removeIf(String::isBlank);
      return lines.subList(Math.max(0, lines.size() - count), lines.size());
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Keeps {@code file} under {@code maxBytes} by copying it to {@code <file>.1} and truncating it
   * in place: the backend's append-mode descriptor then writes at the new end, and wakeport never
   * has to signal the backend.
   */
  static boolean rotateIfLarger(Path file, long maxBytes) {
    try {
      if (!Files.isRegularFile(file) || Files.size(file) <= maxBytes) {
        return false;
      }
      Rotation.copyTruncate(file, 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  /** Reads {@code file} from {@code offset} to its end (at most 1 MB at a time). */
  public static byte[] readFrom(Path file, long offset) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      if (length <= offset) {
        return new byte[0];
      }
      byte[] bytes = new byte[(int) Math.min(length - offset, 1 << 20)];
      raf.seek(offset);
      raf.readFully(bytes);
      return bytes;
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
