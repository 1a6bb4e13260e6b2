package io.wakeport.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The server side of every https handshake: picks the certificate for the server name the client
 * asked for from the {@link CertificateRegistry} at the moment of the handshake. Because the choice
 * is made here, per handshake, the TLS context is built once and a certificate change needs no new
 * context: nothing is cached by name. Runs wherever the JDK engine runs its handshake tasks (the
 * connection's event loop): a lookup in the registry's index, nothing that blocks.
 */
final class SniKeyManager extends X509ExtendedKeyManager {

  private final CertificateRegistry registry;

  SniKeyManager(CertificateRegistry registry) {
    this.registry = registry;
  }

  /** Aliases of TLS-ALPN-01 validation certificates: this prefix and the name. */
  private static final String ALPN_CHALLENGE = "acme-tls-1:";

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    if (engine != null && AcmeTlsEngineOptions.ACME_TLS_1.equals(engine.getHandshakeApplicationProtocol())) {
      // An ACME server validating TLS-ALPN-01: the challenge certificate, or nothing (no client gets here).
      String name = requestedName(engine.getHandshakeSession());
      ServedCertificate challenge = registry.alpnChallenge(name);
      return challenge != null && fits(keyType, challenge.key().getAlgorithm()) ? ALPN_CHALLENGE + name : null;
    }
    return choose(keyType, engine == null ? null : engine.getHandshakeSession());
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return choose(keyType, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
  }

  private String choose(String keyType, SSLSession handshake) {
    // Null: the engine asks again for its other key types, then fails the handshake.
    return registry.selectAlias(requestedName(handshake), c -> fits(keyType, c.key().getAlgorithm()));
  }

  /** The host name of the client's SNI extension, or null when it sent none. */
  static String requestedName(SSLSession handshake) {
    if (handshake instanceof ExtendedSSLSession extended) {
      for (SNIServerName name : extended.getRequestedServerNames()) {
        if (name.getType() == StandardConstants.SNI_HOST_NAME) {
          return ((SNIHostName) name).getAsciiName();
        }
      }
    }
    return null;
  }

  /** The JDK asks by key type: "RSA", "EC", "EdDSA", or "EC_RSA"-style for TLS 1.2's key exchanges. */
  private static boolean fits(String keyType, String keyAlgorithm) {
    return keyType.equals(keyAlgorithm) || keyType.startsWith(keyAlgorithm + "_")
        || keyType.equals("EdDSA") && (keyAlgorithm.equals("Ed25519") || keyAlgorithm.equals("Ed448"));
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return registry.all().stream().filter(c -> fits(keyType, c.key().getAlgorithm())).map(registry::aliasOf)
        .toArray(String[]::new);
  }

  private ServedCertificate byAlias(String alias) {
    return alias != null && alias.startsWith(ALPN_CHALLENGE)
        ? registry.alpnChallenge(alias.substring(ALPN_CHALLENGE.length())) : registry.byAlias(alias);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    ServedCertificate certificate = byAlias(alias);
    return certificate == null ? null : certificate.chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    ServedCertificate certificate = byAlias(alias);
    return certificate == null ? null : certificate.key();
  }

  // A server only: never asked to authenticate as a client.

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return null;
  }
}
