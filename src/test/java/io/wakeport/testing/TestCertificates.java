package io.wakeport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made at test time with the openssl command line: a throwaway CA and leaves it
 * signs, in PEM files as an operator would have them, and TLS clients that trust that CA only.
 */
public final class TestCertificates {

  public final Path dir;
  public final Path caCert;
  private final Path caKey;

  /** One certificate and key pair on disk. */
  public record Pair(Path cert, Path key) {}

  public TestCertificates(Path dir) throws Exception {
    this.dir = Files.createDirectories(dir);
    this.caCert = dir.resolve("ca.crt");
    this.caKey = dir.resolve("ca.key");
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey.toString(),
        "-out", caCert.toString(), "-days", "2", "-subj", "/CN=wakeport test CA");
  }

  /**
   * A leaf for {@code names} (subjectAltName DNS entries, IP ones for addresses such as
   * 127.0.0.1; the first is also its CN), valid {@code days}.
   */
  public Pair leaf(String file, int days, String... names) throws Exception {
    return leafWithKey(file, days, "ec", names);
  }

  /** As {@link #leaf(String, int, String...)} with an {@code ec} or {@code rsa} key. */
  public Pair leafWithKey(String file, int days, String keyType, String... names) throws Exception {
    Path cert = dir.resolve(file + ".crt");
    Path key = dir.resolve(file + ".key");
    StringBuilder san = new StringBuilder("subjectAltName=");
    for (int i = 0; i < names.length; i++) {
      san.append(i == 0 ? "" : ",").append(names[i].matches("[0-9.]+|.*:.*") ? "IP:" : "DNS:").append(names[i]);
    }
    List<String> args = new ArrayList<>(List.of("req", "-x509"));
    args.addAll(newKey(keyType));
    args.addAll(List.of("-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", Integer.toString(days),
        "-subj", "/CN=" + names[0], "-addext", san.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString()));
    openssl(args.toArray(String[]::new));
    return new Pair(cert, key);
  }

  /**
   * A self-signed certificate (no CA) in {@code dir}/{@code file}.crt and .key with an {@code ec}
   * or {@code rsa} key, subject {@code /CN=cn} and {@code subjectAltName} {@code san} (such as
   * {@code DNS:localhost,IP:127.0.0.1}), valid {@code days}: what a server of its own would have.
   */
  public static Pair selfSigned(Path dir, String file, String keyType, int days, String cn, String san)
      throws Exception {
    Path cert = dir.resolve(file + ".crt");
    Path key = dir.resolve(file + ".key");
    List<String> args = new ArrayList<>(List.of("req", "-x509"));
    args.addAll(newKey(keyType));
    args.addAll(List.of("-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", Integer.toString(days),
        "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san));
    openssl(args.toArray(String[]::new));
    return new Pair(cert, key);
  }

  private static List<String> newKey(String keyType) {
    return keyType.equals("rsa") ? List.of("-newkey", "rsa:2048") : List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
  }

  /** Runs openssl, failing the test with its output when it fails. */
  public static String openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new AssertionError("openssl " + String.join(" ", args) + " failed:\n" + output);
    }
    return output;
  }

  public static X509Certificate read(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** A TLS context that trusts this CA and nothing else. */
  public SSLContext clientContext() throws Exception {
    return trusting(read(caCert));
  }

  /** Trust managers that trust {@code roots} and nothing else. */
  public static TrustManagerFactory trustManagers(X509Certificate... roots) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (int i = 0; i < roots.length; i++) {
      trust.setCertificateEntry("ca" + (i == 0 ? "" : "-" + i), roots[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return tmf;
  }

  /** A client TLS context that trusts {@code roots} and nothing else. */
  public static SSLContext trusting(X509Certificate... roots) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers(roots).getTrustManagers(), null);
    return context;
  }

  /** A client TLS context that presents {@code pair} (for mutual TLS) and trusts {@code roots} only. */
  public static SSLContext presenting(Pair pair, X509Certificate... roots) throws Exception {
    Path p12 = pair.cert().resolveSibling(pair.cert().getFileName() + ".p12");
    openssl("pkcs12", "-export", "-in", pair.cert().toString(), "-inkey", pair.key().toString(), "-out", p12.toString(),
        "-passout", "pass:test");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      store.load(in, "test".toCharArray());
    }
    javax.net.ssl.KeyManagerFactory keys =
        javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, "test".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), trustManagers(roots).getTrustManagers(), null);
    return context;
  }

  /**
   * A finished handshake with 127.0.0.1:{@code port}, sending {@code serverName} as SNI (none when
   * null); the caller closes it. Hostname checks are left out: tests look at what was served.
   */
  public SSLSocket handshake(int port, String serverName, String... protocols) throws Exception {
    SSLSocket socket = (SSLSocket) clientContext().getSocketFactory().createSocket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
    if (protocols.length > 0) {
      parameters.setProtocols(protocols);
    }
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }

  /** The leaf the server presented for {@code serverName} on a new connection. */
  public X509Certificate served(int port, String serverName) throws Exception {
    try (SSLSocket socket = handshake(port, serverName)) {
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  /** Whether openssl is on this machine (the tests that need it say so rather than fail obscurely). */
  public static void requireOpenssl() throws IOException, InterruptedException {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (p.waitFor() != 0) {
        throw new AssertionError("openssl is needed by the https tests (.ci/run installs it)");
      }
    } catch (IOException e) {
      throw new AssertionError("openssl is needed by the https tests (.ci/run installs it)", e);
    }
  }
}
