package io.wakeport.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener's bearer token in token mode: 32 random bytes, url-safe base64, kept in
 * {@code <state-dir>/admin.token} with mode 0600 so only wakeport's user (and root) can read it.
 * Made once, at the first start; later starts and the CLI read the same file.
 */
public final class AdminToken {

  private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private AdminToken() {}

  /** The token in {@code file}, made (atomically, mode 0600) when there is none yet. */
  public static String loadOrCreate(Path file) throws IOException {
    if (Files.exists(file)) {
      String token = read(file);
      if (Files.getPosixFilePermissions(file).stream().anyMatch(p -> !p.name().startsWith("OWNER_"))) {
        log.warn("{} can be read by other users than its owner: chmod 600 it (or delete it for a new token)", file);
      }
      return token;
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.createDirectories(file.getParent());
    // Written whole under a temporary name created 0600 from the start, then renamed: no reader
    // ever sees a partial token, nor a moment when the file is readable by others.
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    log.info("admin token written to {}; it is not shown again", file);
    return token;
  }

  /** The token in {@code file} (for the CLI); IOException when it cannot be read. */
  public static String read(Path file) throws IOException {
    String token = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (token.isEmpty()) {
      throw new IOException(file + " is empty: delete it and restart wakeport for a new token");
    }
    return token;
  }
}
