package io.wakeport.acme;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;

/**
 * A real TLS handshake to 127.0.0.1:port with {@code serverName} as SNI: the chain the server
 * presented, whatever it is (the test judges it), or null when the handshake failed.
 */
final class Handshake {

  private Handshake() {}

  static List<X509Certificate> chainFor(int port, String serverName) throws Exception {
    AtomicReference<X509Certificate[]> seen = new AtomicReference<>();
    X509TrustManager recording = new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client only");
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen.set(chain);
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new X509TrustManager[] {recording}, null);
    try (Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      plain.setSoTimeout(30_000);
      try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket(plain, serverName, port, false)) {
        var params = socket.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(serverName)));
        socket.setSSLParameters(params);
        socket.startHandshake();
      } catch (javax.net.ssl.SSLException e) {
        return seen.get() == null ? null : List.of(seen.get());
      }
    }
    return seen.get() == null ? null : List.of(seen.get());
  }

  /** Whether {@code leaf} names {@code host} among its DNS subject alternative names. */
  static boolean names(X509Certificate leaf, String host) throws Exception {
    var sans = leaf.getSubjectAlternativeNames();
    return sans != null && sans.stream().anyMatch(san -> host.equals(san.get(1)));
  }
}
