package io.wakeport.accesslog;

import java.nio.file.Path;

/**
 * Where and how requests are logged.
 *
 * @param format   {@link Format#OFF} logs nothing
 * @param file     the live log; {@code null} only when off and no file was configured
 * @param maxBytes the live log is rotated to {@code <file>.1} before it would grow past this
 * @param keep     rotated copies kept ({@code <file>.1} … {@code <file>.<keep>}); 0 keeps none
 */
public record AccessLogSettings(Format format, Path file, long maxBytes, int keep) {

  public static final long DEFAULT_MAX_BYTES = 100L * 1024 * 1024;
  public static final int DEFAULT_KEEP = 5;

  public enum Format {
    OFF, COMBINED, JSON
  }

  public AccessLogSettings {
    if (format == null) {
      throw new IllegalArgumentException("format is required");
    }
    if (format != Format.OFF && file == null) {
      throw new IllegalArgumentException("an access log in " + format + " format needs a file");
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive, not " + maxBytes);
    }
    if (keep < 0) {
      throw new IllegalArgumentException("keep must be 0 or more, not " + keep);
    }
  }

  /** No access log: the default when the config has no {@code access-log} section. */
  public static AccessLogSettings disabled() {
    return new AccessLogSettings(Format.OFF, null, DEFAULT_MAX_BYTES, DEFAULT_KEEP);
  }

  public boolean enabled() {
    return format != Format.OFF;
  }
}
