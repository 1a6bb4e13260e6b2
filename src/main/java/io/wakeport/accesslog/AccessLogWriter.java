package io.wakeport.accesslog;

import io.wakeport.rotation.Rotation;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AccessLog} writing to a file: callers hand entries to a bounded queue, and one daemon
 * thread formats them, appends them through a buffer, flushes when the queue runs empty and at
 * least once a second, and rotates the file before it would pass its size limit.
 */
final class AccessLogWriter implements AccessLog {

  private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);

  /** Rides out a disk stall of about a second at ten thousand requests a second. */
  static final int DEFAULT_CAPACITY = 16_384;
  private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int BUFFER_BYTES = 64 * 1024;
  private static final int BATCH = 1024;
  private static final long CLOSE_WAIT_MILLIS = 10_000;
  /** Wakes the writer on close. */
  private static final AccessEntry CLOSE =
      new AccessEntry(0, null, null, null, null, 0, 0, null, null, null, null, null, 0, -1, null);

  private final Path file;
  private final long maxBytes;
  private final int keep;
  private final LineFormat format;
  private final BlockingQueue<AccessEntry> queue;
  private final LongAdder dropped = new LongAdder();
  private final Thread thread;
  private volatile boolean closing;

  // Writer thread only (and the opener, before the thread starts).
  private final StringBuilder line = new StringBuilder(512);
  private OutputStream out;
  private long size;
  private long droppedReported;
  private long lost;
  private long lostReported;
  private long lastFailureLogged = System.nanoTime() - SECOND_NANOS;
  private long rotateNotBefore = System.nanoTime();

  /** Not yet writing: {@link #start()} starts the thread (tests fill the queue first). */
  AccessLogWriter(AccessLogSettings settings, ZoneId zone, int capacity) throws IOException {
    this.file = settings.file();
    this.maxBytes = settings.maxBytes();
    this.keep = settings.keep();
    this.format = switch (settings.format()) {
      case COMBINED -> new CombinedFormat(zone);
      case JSON -> new JsonFormat();
      case OFF -> throw new IllegalArgumentException("the access log is off");
    };
    this.queue = new ArrayBlockingQueue<>(capacity);
    openFile(); // fail at start-up, not at the first request
    this.thread = new Thread(this::run, "wakeport-access-log");
    thread.setDaemon(true);
  }

  static AccessLogWriter open(AccessLogSettings settings, ZoneId zone, int capacity) throws IOException {
    AccessLogWriter writer = new AccessLogWriter(settings, zone, capacity);
    writer.start();
    return writer;
  }

  void start() {
    thread.start();
  }

  @Override
  public void record(AccessEntry entry) {
    if (entry == null || closing) {
      return;
    }
    if (!queue.offer(entry)) {
      dropped.increment();
    }
  }

  /** Entries dropped so far because the queue was full. */
  long dropped() {
    return dropped.sum();
  }

  @Override
  public synchronized void close() {
    if (!closing) {
      closing = true;
      queue.offer(CLOSE); // when full, the writer is busy anyway and sees closing once it is empty
      if (thread.getState() == Thread.State.NEW) {
        thread.start();
      }
    }
    try {
      thread.join(CLOSE_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<AccessEntry> batch = new ArrayList<>(BATCH);
    long nextSecond = System.nanoTime() + SECOND_NANOS;
    while (!(closing && queue.isEmpty())) {
      AccessEntry first;
      try {
        first = queue.poll(Math.max(0, nextSecond - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        break; // nothing here interrupts this thread; if something does, write what is left and stop
      }
      if (first != null) {
        write(first);
        while (queue.drainTo(batch, BATCH) > 0) {
          batch.forEach(this::write);
          batch.clear();
          if (System.nanoTime() - nextSecond >= 0) {
            break;
          }
        }
      }
      long now = System.nanoTime();
      boolean secondOver = now - nextSecond >= 0;
      if (queue.isEmpty() || secondOver) {
        flush();
      }
      if (secondOver) {
        // Reported from here, not from record(), so that callers on an event loop never log.
        report();
        nextSecond = now + SECOND_NANOS;
      }
    }
    queue.drainTo(batch);
    batch.forEach(this::write);
    flush();
    closeFile();
    report();
  }

  private void write(AccessEntry entry) {
    if (entry == CLOSE) {
      return;
    }
    line.setLength(0);
    format.append(entry, line);
    byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
    try {
      if (out == null) {
        openFile(); // after an I/O error
      }
      if (size > 0 && size + bytes.length > maxBytes && System.nanoTime() - rotateNotBefore >= 0) {
        rotate();
      }
      out.write(bytes);
      size += bytes.length;
    } catch (IOException e) {
      lost++;
      failed("cannot write", e);
    }
  }

  private void rotate() throws IOException {
    out.close();
    out = null;
    try {
      Rotation.renameAway(file, keep);
    } catch (IOException e) {
      // Rather a log past max-size than lost lines; try again in a second.
      rotateNotBefore = System.nanoTime() + SECOND_NANOS;
      failed("cannot rotate", e);
    }
    openFile();
  }

  private void openFile() throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    // FileOutputStream rather than a FileChannel: an interrupt must not close the file under us.
    out = new BufferedOutputStream(new FileOutputStream(file.toFile(), true), BUFFER_BYTES);
    size = Files.size(file);
  }

  private void flush() {
    if (out == null) {
      return;
    }
    try {
      out.flush();
    } catch (IOException e) {
      failed("cannot flush", e);
    }
  }

  private void closeFile() {
    if (out == null) {
      return;
    }
    try {
      out.close();
    } catch (IOException e) {
      failed("cannot close", e);
    }
  }

  /** Drops the stream (the next line reopens the file) and says so at most once a second. */
  private void failed(String what, IOException e) {
    if (out != null) {
      try {
        out.close();
      } catch (IOException ignored) {
        // already failing
      }
      out = null;
    }
    long now = System.nanoTime();
    if (now - lastFailureLogged >= SECOND_NANOS) {
      lastFailureLogged = now;
      log.warn("access log: {} {}: {}", what, file, e.toString());
    }
  }

  private void report() {
    long total = dropped.sum();
    if (total > droppedReported) {
      log.warn("access log: dropped {} entries, more than the writer could keep up with ({} dropped in all)",
          total - droppedReported, total);
      droppedReported = total;
    }
    if (lost > lostReported) {
      log.warn("access log: {} lines lost to write errors on {}", lost - lostReported, file);
      lostReported = lost;
    }
  }
}
