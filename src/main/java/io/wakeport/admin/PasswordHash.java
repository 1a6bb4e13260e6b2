package io.wakeport.admin;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Admin users' password hashes: {@code pbkdf2-sha256$<iterations>$<salt>$<key>} (url-safe
 * base64), PBKDF2WithHmacSHA256 from the JDK with a 16-byte random salt and OWASP's 600,000
 * iterations. Slow on purpose: verify on a worker thread.
 */
public final class PasswordHash {

  static final int ITERATIONS = 600_000;
  private static final String PREFIX = "pbkdf2-sha256";

  private PasswordHash() {}

  public static String hash(char[] password) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return PREFIX + "$" + ITERATIONS + "$" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(derive(password, salt, ITERATIONS, 32));
  }

  /** Whether {@code password} matches {@code hash}; false for a hash that cannot be read. */
  public static boolean verify(char[] password, String hash) {
    String[] parts = hash.split("\\$");
    if (parts.length != 4 || !parts[0].equals(PREFIX)) {
      return false;
    }
    try {
      int iterations = Integer.parseInt(parts[1]);
      byte[] salt = decode(parts[2]);
      byte[] expected = decode(parts[3]);
      if (iterations < 1 || expected.length == 0) {
        return false;
      }
      return MessageDigest.isEqual(expected, derive(password, salt, iterations, expected.length));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static byte[] decode(String text) {
    // Accept either base64 alphabet, with or without padding.
    return Base64.getUrlDecoder().decode(text.replace('+', '-').replace('/', '_').replace("=", ""));
  }

  private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is part of every JDK", e);
    } finally {
      spec.clearPassword();
    }
  }
}
