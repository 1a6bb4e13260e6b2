package io.wakeport.proxying;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

final class TestBedLines {
  private TestBedLines() {}

  static boolean contains(Path file, String text) {
    try {
      return Files.exists(file) && Files.readString(file).contains(text);
    } catch (IOException e) {
      return false;
    }
  }
}
