package io.wakeport.supervision;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a backend's stdout and stderr go: appended to its log file, with the last lines kept in
 * memory so a failed start or a crash can be explained in wakeport's own log.
 * Written by one output-pumping thread; {@link #lastLines} may be called from any thread.
 */
final class BackendLog extends OutputStream {

  private static final int TAIL_LINES = 20;
  private static final int MAX_LINE = 4096;

  private final Path file;
  private final OutputStream out;
  private final ArrayDeque<String> tail = new ArrayDeque<>();
  private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

  BackendLog(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    this.file = file;
    this.out = new FileOutputStream(file.toFile(), true);
  }

  Path file() {
    return file;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    for (int i = off; i < off + len; i++) {
      if (b[i] == '\n') {
        endLine();
      } else if (line.size() < MAX_LINE) {
        line.write(b[i]);
      }
    }
  }

  private void endLine() {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    synchronized (tail) {
      if (tail.size() == TAIL_LINES) {
        tail.removeFirst();
      }
      tail.addLast(text);
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    if (line.size() > 0) {
      endLine();
    }
    out.close();
  }

  /** The last lines written, oldest first. */
  List<String> lastLines() {
    synchronized (tail) {
      return new ArrayList<>(tail);
    }
  }
}
