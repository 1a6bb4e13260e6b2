package io.wakeport.tls;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TLS handshake with wakeport's own listener at start. The JVM's first server handshake pays
 * for loading and initialising the TLS stack and for Vert.x building its context, seconds on a
 * busy machine; done here, the first client does not wait for it. Nothing is sent after the
 * handshake and nothing is verified: the point is the server's work, not the client's trust.
 */
public final class HandshakeWarmUp {

  private static final Logger log = LoggerFactory.getLogger(HandshakeWarmUp.class);

  private HandshakeWarmUp() {}

  /** Blocks until a handshake with {@code host:port} is done or failed, at most {@code timeoutMillis}. */
  public static void run(String host, int port, int timeoutMillis) {
    String target = host.equals("0.0.0.0") ? "127.0.0.1" : host.equals("::") ? "::1" : host;
    long began = System.nanoTime();
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new AcceptingAnything()}, null);
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress(target, port), timeoutMillis);
        plain.setSoTimeout(timeoutMillis);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, target, port, true)) {
          socket.startHandshake();
        }
      }
      log.debug("https: warm-up handshake with {}:{} in {} ms", target, port, (System.nanoTime() - began) / 1_000_000);
    } catch (Exception e) {
      log.debug("https: warm-up handshake with {}:{} failed: {}", target, port, e.toString());
    }
  }

  /** Only for this handshake with ourselves, which carries no data. */
  private static final class AcceptingAnything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
