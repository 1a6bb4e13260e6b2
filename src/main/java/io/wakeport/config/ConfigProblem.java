package io.wakeport.config;

import java.nio.file.Path;

/** One thing wrong with a config file, located precisely enough for an operator to fix it. */
public record ConfigProblem(Path file, int line, String key, String message) {

  @Override
  public String toString() {
    String where = file == null ? "" : file + ":" + (line > 0 ? line + ":" : "");
    return where + (key == null || key.isEmpty() ? " " : " " + key + ": ") + message;
  }
}
