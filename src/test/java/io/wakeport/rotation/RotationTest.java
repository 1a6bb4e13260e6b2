package io.wakeport.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Numbered copies: .1 newest, at most {@code keep} of them. */
class RotationTest {

  @TempDir Path dir;

  @Test
  void renameAwayKeepsTheNewestCopiesInOrder() throws Exception {
    Path file = dir.resolve("access.log");
    for (int i = 1; i <= 5; i++) {
      Files.writeString(file, "generation " + i);
      Rotation.renameAway(file, 3);
    }
    assertFalse(Files.exists(file), "the caller opens a fresh file");
    assertEquals("generation 5", Files.readString(Rotation.numbered(file, 1)));
    assertEquals("generation 4", Files.readString(Rotation.numbered(file, 2)));
    assertEquals("generation 3", Files.readString(Rotation.numbered(file, 3)));
    assertFalse(Files.exists(Rotation.numbered(file, 4)));
  }

  @Test
  void keepZeroDropsTheContent() throws Exception {
    Path file = dir.resolve("access.log");
    Files.writeString(file, "old");
    Rotation.renameAway(file, 0);
    assertFalse(Files.exists(file));
    assertFalse(Files.exists(Rotation.numbered(file, 1)));
  }

  @Test
  void copyTruncateLeavesTheFileInPlaceAndEmpty() throws Exception {
    Path file = dir.resolve("backend.log");
    Files.writeString(file, "first");
    Rotation.copyTruncate(file, 1);
    Files.writeString(file, "second");
    Rotation.copyTruncate(file, 1);
    assertEquals(0, Files.size(file));
    assertEquals("second", Files.readString(Rotation.numbered(file, 1)));
    assertFalse(Files.exists(Rotation.numbered(file, 2)), "keep 1 replaces .1");
  }
}
