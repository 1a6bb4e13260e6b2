package io.wakeport.acme;

import io.wakeport.config.AcmeSettings;
import java.io.IOException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orders one certificate per name over HTTP-01 with acme4j: the account (registered, or found
 * again by its key, at the first order), the order, each authorization's challenge put into
 * {@link Http01Tokens} while the server validates, the CSR with a fresh key, the chain. Every
 * call blocks on the network: run it on a worker, never on an event loop.
 */
public final class AcmeClient {

  private static final Logger log = LoggerFactory.getLogger(AcmeClient.class);

  private final AcmeSettings settings;
  private final AcmeStore store;
  private final Http01Tokens tokens;
  private final AlpnChallengeSink alpn;
  private final Duration timeout;
  private final AtomicInteger orders = new AtomicInteger();
  private Account account;

  public AcmeClient(AcmeSettings settings, AcmeStore store, Http01Tokens tokens, AlpnChallengeSink alpn,
      Duration timeout) {
    this.alpn = alpn;
    this.settings = settings;
    this.store = store;
    this.tokens = tokens;
    this.timeout = timeout;
  }

  /** Orders placed by this client since it was made (tests count them). */
  public int orders() {
    return orders.get();
  }

  /** A new certificate for {@code name}, validated over HTTP-01; blocks until issued or failed. */
  public IssuedCertificate issue(String name) throws IOException, AcmeException, InterruptedException {
    Account acct = account();
    orders.incrementAndGet();
    Order order = acct.newOrder().domain(name).create();
    for (Authorization auth : order.getAuthorizations()) {
      authorize(auth);
    }
    Polling.until(order, EnumSet.of(Status.READY, Status.INVALID, Status.VALID), timeout);
    KeyPair domainKey = AcmeStore.newKeyPair();
    order.execute(domainKey);
    Status status = Polling.until(order, EnumSet.of(Status.VALID, Status.INVALID), timeout);
    if (status != Status.VALID) {
      throw new AcmeException("order for " + name + " ended " + status + ": " + problem(order.getError()));
    }
    var certificate = order.getCertificate();
    return new IssuedCertificate(name, domainKey.getPrivate(), certificate.getCertificateChain());
  }

  private void authorize(Authorization auth) throws AcmeException, InterruptedException {
    if (auth.getStatus() == Status.VALID) {
      return;
    }
    if (settings.challenge() == AcmeSettings.Challenge.TLS_ALPN_01) {
      authorizeTlsAlpn(auth);
      return;
    }
    Http01Challenge challenge = auth.findChallenge(Http01Challenge.class)
        .orElseThrow(() -> new AcmeException("the server offers no http-01 challenge for "
            + auth.getIdentifier().getDomain()));
    if (challenge.getStatus() == Status.VALID) {
      return;
    }
    tokens.put(challenge.getToken(), challenge.getAuthorization());
    try {
      challenge.trigger();
      Status status = Polling.until(challenge, EnumSet.of(Status.VALID, Status.INVALID), timeout);
      if (status != Status.VALID) {
        throw new AcmeException("http-01 for " + auth.getIdentifier().getDomain() + " ended " + status + ": "
            + problem(challenge.getError()));
      }
    } finally {
      tokens.remove(challenge.getToken());
    }
  }

  /** TLS-ALPN-01 (RFC 8737): a self-signed certificate with the validation, served to acme-tls/1 handshakes. */
  private void authorizeTlsAlpn(Authorization auth) throws AcmeException, InterruptedException {
    String name = auth.getIdentifier().getDomain();
    TlsAlpn01Challenge challenge = auth.findChallenge(TlsAlpn01Challenge.class)
        .orElseThrow(() -> new AcmeException("the server offers no tls-alpn-01 challenge for " + name));
    if (challenge.getStatus() == Status.VALID) {
      return;
    }
    KeyPair key = rsaKeyPair(); // acme4j signs the validation certificate with SHA256withRSA
    alpn.put(name, key.getPrivate(), challenge.createCertificate(key, auth.getIdentifier()));
    try {
      challenge.trigger();
      Status status = Polling.until(challenge, EnumSet.of(Status.VALID, Status.INVALID), timeout);
      if (status != Status.VALID) {
        throw new AcmeException("tls-alpn-01 for " + name + " ended " + status + ": " + problem(challenge.getError()));
      }
    } finally {
      alpn.remove(name);
    }
  }

  private static KeyPair rsaKeyPair() {
    try {
      java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no RSA", e);
    }
  }

  private synchronized Account account() throws IOException, AcmeException {
    if (account == null) {
      Session session = new Session(settings.directory(),
          settings.trust() != null ? new TrustingProvider(settings.trust()) : new GenericAcmeProvider());
      AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(store.accountKey());
      if (settings.email() != null) {
        builder.addEmail(settings.email());
      }
      account = builder.create(session);
      log.info("ACME account {} at {}", account.getLocation(), settings.directory());
    }
    return account;
  }

  private static String problem(java.util.Optional<Problem> p) {
    return p.map(x -> x.getDetail().orElse(x.toString())).orElse("no reason given");
  }
}
