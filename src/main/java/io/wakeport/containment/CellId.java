package io.wakeport.containment;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A short name for one wakeport's state dir, stable across restarts: its cgroups and markers are named by it. */
final class CellId {

  private CellId() {}

  static String of(Path stateDir) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(stateDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
