package io.wakeport.acme;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * acme4j's provider for a plain http(s) directory URL, trusting the CA certificates in
 * {@code https.acme.trust} besides the JDK's own: an ACME server with a private CA (Pebble,
 * or a company's) without touching the JVM's trust store.
 */
final class TrustingProvider extends GenericAcmeProvider {

  private final SSLContext ssl;

  TrustingProvider(Path trust) throws IOException {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (X509Certificate c : Pem.certificates(Files.readString(trust))) {
        store.setCertificateEntry("extra-" + i++, c);
      }
      for (X509Certificate c : jdkDefaults().getAcceptedIssuers()) {
        store.setCertificateEntry("jdk-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
    } catch (GeneralSecurityException | IOException e) {
      throw new IOException("cannot read https.acme.trust " + trust + ": " + e.getMessage(), e);
    }
  }

  private static X509TrustManager jdkDefaults() throws GeneralSecurityException {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("the JDK has no X.509 trust manager");
  }

  @Override
  public HttpClient createHttpClient(NetworkSettings settings) {
    HttpClient.Builder b = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NORMAL)
        .connectTimeout(settings.getTimeout())
        .proxy(settings.getProxySelector())
        .sslContext(ssl);
    if (settings.getAuthenticator() != null) {
      b.authenticator(settings.getAuthenticator());
    }
    return b.build();
  }

}
