package io.wakeport.cluster;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks requests between nodes: HMAC-SHA256 with the cluster secret over the sending
 * and the receiving node, the time, a nonce, the method, the target, the host and the client's
 * scheme, compared in constant time; a signature older or newer than {@link #WINDOW_MILLIS} is
 * refused, and so is a nonce seen before, and one made for another node (each node remembers only
 * its own nonces): a captured request cannot be replayed, to its node or to any other.
 */
final class ForwardAuth {

  static final long WINDOW_MILLIS = 60_000;
  /**
   * Nonces remembered at most. When full a request is refused rather than a nonce forgotten early
   * (which would let that signature be replayed): only correctly signed requests enter, so only
   * the cluster's own traffic fills it, at 104 bytes a nonce (52 MB); full is some 8,000 forwarded
   * requests a second to one node for the whole window.
   */
  static final int MAX_NONCES = 500_000;

  private static final String REPLAYED = "replayed request (its nonce was used before)";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

  /** This node's name: what it signs as, and the receiver every signature it accepts must name. */
  private final String self;
  private final byte[] key;
  private final int maxNonces;
  /** Nonces of accepted signatures, each kept until its signature's time leaves the window. */
  private final Cache<String, Long> seen;

  ForwardAuth(String self, String secret) {
    this(self, secret, MAX_NONCES);
  }

  ForwardAuth(String self, String secret, int maxNonces) {
    this.self = self;
    this.key = secret.getBytes(StandardCharsets.UTF_8);
    this.maxNonces = maxNonces;
    this.seen = Caffeine.newBuilder()
        .expireAfter(new Expiry<String, Long>() {
          @Override
          public long expireAfterCreate(String nonce, Long at, long now) {
            return TimeUnit.MILLISECONDS.toNanos(Math.max(0, at + WINDOW_MILLIS - System.currentTimeMillis()) + 1);
          }

          @Override
          public long expireAfterUpdate(String nonce, Long at, long now, long left) {
            return left;
          }

          @Override
          public long expireAfterRead(String nonce, Long at, long now, long left) {
            return left;
          }
        })
        .build();
  }

  /** Signs a request from this node to node {@code to}, for a client that used {@code scheme} (http or https). */
  void sign(String to, String method, String target, String host, String scheme, MultiMap headers) {
    String time = Long.toString(System.currentTimeMillis());
    byte[] random = new byte[16];
    RANDOM.nextBytes(random);
    String nonce = BASE64.encodeToString(random);
    headers.set(Cluster.NODE_HEADER, self);
    headers.set(Cluster.TIME_HEADER, time);
    headers.set(Cluster.NONCE_HEADER, nonce);
    headers.set(Cluster.HOST_HEADER, host == null ? "" : host);
    headers.set(Cluster.SCHEME_HEADER, scheme);
    headers.set(Cluster.SIGNATURE_HEADER, mac(self, to, time, nonce, method, target, host == null ? "" : host, scheme));
  }

  /**
   * The sender's node name, or why not: headers missing, stale, not signed with our secret for
   * this node (a signature for another node is just as bad), or used before.
   */
  Cluster.Verified verify(String method, String target, MultiMap headers) {
    String node = headers.get(Cluster.NODE_HEADER);
    String time = headers.get(Cluster.TIME_HEADER);
    String nonce = headers.get(Cluster.NONCE_HEADER);
    String host = headers.get(Cluster.HOST_HEADER);
    String scheme = headers.get(Cluster.SCHEME_HEADER);
    String signature = headers.get(Cluster.SIGNATURE_HEADER);
    if (node == null || time == null || nonce == null || host == null || scheme == null
        || signature == null) {
      return refused("unsigned request");
    }
    long at;
    try {
      at = Long.parseLong(time);
    } catch (NumberFormatException e) {
      return refused("badly signed request");
    }
    if (Math.abs(System.currentTimeMillis() - at) > WINDOW_MILLIS) {
      return refused("signed request outside the " + WINDOW_MILLIS / 1000 + " s window (clocks apart?)");
    }
    byte[] expected = mac(node, self, time, nonce, method, target, host, scheme).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
      return refused("badly signed request");
    }
    // Only now, signed by a node: nobody without the secret can fill the memory of nonces.
    if (seen.getIfPresent(nonce) != null) {
      return new Cluster.Verified(null, REPLAYED, true);
    }
    if (seen.estimatedSize() >= maxNonces) {
      seen.cleanUp();
      if (seen.estimatedSize() >= maxNonces) {
        return refused("signed request refused: " + maxNonces + " nonces within the window already");
      }
    }
    if (seen.asMap().putIfAbsent(nonce, at) != null) {
      return new Cluster.Verified(null, REPLAYED, true); // two at once
    }
    return new Cluster.Verified(node, null, false);
  }

  private static Cluster.Verified refused(String why) {
    return new Cluster.Verified(null, why, false);
  }

  private String mac(String from, String to, String time, String nonce, String method, String target, String host,
      String scheme) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      String message = from + '\n' + to + '\n' + time + '\n' + nonce + '\n' + method + '\n' + target + '\n'
          + host + '\n' + scheme;
      return BASE64.encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** A short name for the cluster made from the secret, so clusters with other secrets never merge. */
  static String clusterName(String secret) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(("wakeport cluster " + secret)
          .getBytes(StandardCharsets.UTF_8));
      return "wakeport-" + java.util.HexFormat.of().formatHex(digest, 0, 6);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
