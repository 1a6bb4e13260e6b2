package io.wakeport.config;

import java.time.Duration;

/**
 * Whether wakeport watches its config files, and how long a changed file must stay still before
 * it is read.
 *
 * @param enabled false: no watcher at all, the config is read again only on HUP
 * @param quiet   every changed file must keep its size and mtime, with no new change event, this
 *                long before the config is reloaded: a file still being written is never applied half
 */
public record WatchSettings(boolean enabled, Duration quiet) {

  /**
   * Two seconds: longer than the pauses of a script or a copy that writes a file in several steps,
   * and than the one-second mtime granularity of some file systems, yet an edit still applies
   * within a few seconds (HUP applies it at once).
   */
  public static final Duration DEFAULT_QUIET = Duration.ofSeconds(2);

  public static WatchSettings defaults() {
    return new WatchSettings(true, DEFAULT_QUIET);
  }
}
