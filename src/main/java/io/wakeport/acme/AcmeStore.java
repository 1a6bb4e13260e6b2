package io.wakeport.acme;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What ACME leaves on disk, under {@code <state-dir>/acme}: the account key
 * ({@code account.key}), each name's certificate chain and key ({@code certs/<name>.crt},
 * {@code certs/<name>.key}) and the times of its recent orders ({@code attempts/<name>}). Every
 * file is written whole under a temporary name created 0600, then renamed: no reader sees half
 * of one, and no other user can read a key at any moment. Blocking: call it off the event loop.
 */
public final class AcmeStore {

  /** A host name, lower case: the only thing ever used as a file name here. */
  static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+");

  private final Path dir;

  public AcmeStore(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  /** The account's key pair, made (EC P-256) and written at the first call. */
  public synchronized KeyPair accountKey() throws IOException {
    Path file = dir.resolve("account.key");
    try {
      if (Files.exists(file)) {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        return new KeyPair(Pem.publicKey(Pem.block(text, "PUBLIC KEY")), Pem.privateKey(Pem.block(text, "PRIVATE KEY")));
      }
      KeyPair pair = newKeyPair();
      write(file, Pem.encode("PRIVATE KEY", pair.getPrivate().getEncoded())
          + Pem.encode("PUBLIC KEY", pair.getPublic().getEncoded()));
      return pair;
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException("cannot read the ACME account key " + file + ": " + e.getMessage(), e);
    }
  }

  /** A fresh key pair for a certificate (EC P-256, by the JDK's own provider). */
  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no EC P-256", e);
    }
  }

  /** The stored certificate for {@code name}, if there is one that can be read. */
  public Optional<IssuedCertificate> certificate(String name) throws IOException {
    Path crt = certFile(name, ".crt");
    Path key = certFile(name, ".key");
    if (!Files.exists(crt) || !Files.exists(key)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new IssuedCertificate(name,
          Pem.privateKey(Pem.block(Files.readString(key, StandardCharsets.US_ASCII), "PRIVATE KEY")),
          Pem.certificates(Files.readString(crt, StandardCharsets.US_ASCII))));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException("cannot read the stored certificate for " + name + " (" + crt + "): " + e.getMessage(), e);
    }
  }

  /** Keeps {@code issued}: the key first, so a chain on disk always has its key beside it. */
  public void save(IssuedCertificate issued) throws IOException {
    write(certFile(issued.name(), ".key"), issued.keyPem());
    write(certFile(issued.name(), ".crt"), issued.chainPem());
  }

  /** The times orders for {@code name} were started, oldest first. */
  public List<Instant> attempts(String name) throws IOException {
    Path file = file("attempts", name, "");
    List<Instant> out = new ArrayList<>();
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
        try {
          out.add(Instant.parse(line.trim()));
        } catch (RuntimeException e) {
          // a torn or edited line: the others still count
        }
      }
    }
    return out;
  }

  public void saveAttempts(String name, List<Instant> times) throws IOException {
    StringBuilder b = new StringBuilder();
    times.forEach(t -> b.append(t).append('\n'));
    write(file("attempts", name, ""), b.toString());
  }

  Path certFile(String name, String ext) {
    return file("certs", name, ext);
  }

  private Path file(String sub, String name, String ext) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a host name: " + name);
    }
    return dir.resolve(sub).resolve(name + ext);
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
