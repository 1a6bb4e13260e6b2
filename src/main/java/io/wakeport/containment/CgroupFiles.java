package io.wakeport.containment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Reads and writes cgroup interface files: one write per value, never creating or truncating. */
final class CgroupFiles {

  private CgroupFiles() {}

  static void write(Path file, String value) throws IOException {
    Files.write(file, value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
  }

  /** Writes {@code value} if {@code file} exists (a knob this kernel or hierarchy may lack). */
  static void writeIfPresent(Path file, String value) throws IOException {
    if (Files.exists(file)) {
      write(file, value);
    }
  }

  /** The number after {@code key} in a flat-keyed file ({@code memory.events}, {@code cpu.stat}), or -1. */
  static long keyed(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key + " ")) {
          return Long.parseLong(line.substring(key.length() + 1).trim());
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // absent here
    }
    return -1;
  }

  /** The single number in {@code file}, or -1. */
  static long number(Path file) {
    try {
      return Long.parseLong(Files.readString(file).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
