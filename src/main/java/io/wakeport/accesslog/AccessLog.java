package io.wakeport.accesslog;

import java.io.IOException;
import java.time.ZoneId;

/**
 * The access log: one line per answered request. {@link #record} never blocks, so it can be
 * called from an event loop as a response ends; a writer thread does the formatting and file I/O.
 */
public interface AccessLog extends AutoCloseable {

  /**
   * Queues one line. Never blocks: when the writer has fallen behind by a whole queue the entry is
   * dropped and counted, and the count is logged as a warning at most once a second.
   */
  void record(AccessEntry entry);

  /** False when nothing is written: callers then need not build entries at all. */
  default boolean enabled() {
    return true;
  }

  /** Writes out what was recorded before, flushes and closes the file. Later records are ignored. */
  @Override
  void close();

  /** Logs nothing. */
  static AccessLog off() {
    return NoAccessLog.INSTANCE;
  }

  /**
   * The access log {@code settings} ask for: {@link #off()} when disabled, otherwise a writer
   * appending to {@code settings.file()} (its directory created), timestamps in the local zone.
   *
   * @throws IOException when the file cannot be opened for appending
   */
  static AccessLog open(AccessLogSettings settings) throws IOException {
    if (!settings.enabled()) {
      return off();
    }
    return AccessLogWriter.open(settings, ZoneId.systemDefault(), AccessLogWriter.DEFAULT_CAPACITY);
  }
}
