package io.wakeport.config;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * When a started backend counts as ready: its port accepts a connection ({@code tcp}), a GET of
 * {@code httpPath} answers 2xx or 3xx ({@code http}), or a line of its output matches
 * {@code logPattern} ({@code log}); then {@code settle} more.
 */
public record Readiness(Kind kind, String httpPath, Pattern logPattern, Duration settle) {

  public enum Kind { TCP, HTTP, LOG }

  public static Readiness tcp() {
    return new Readiness(Kind.TCP, null, null, Duration.ZERO);
  }
}
