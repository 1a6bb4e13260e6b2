package io.wakeport.tls;

import java.nio.file.Path;

/** A certificate or key file that cannot be served, and which of the two is at fault. */
public final class CertificateFileException extends Exception {

  private final Path file;

  public CertificateFileException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public Path file() {
    return file;
  }

  /** What is wrong, without the file name. */
  public String reason() {
    return getMessage().substring(file.toString().length() + 2);
  }
}
