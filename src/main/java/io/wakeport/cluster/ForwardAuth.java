package io.wakeport.cluster;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks requests between nodes: HMAC-SHA256 with the cluster secret over the sending
 * node, the time, the method, the target and the host, compared in constant time; a signature
 * older or newer than {@link #WINDOW_MILLIS} is refused.
 */
final class ForwardAuth {

  static final long WINDOW_MILLIS = 60_000;

  private final byte[] key;

  ForwardAuth(String secret) {
    this.key = secret.getBytes(StandardCharsets.UTF_8);
  }

  void sign(String node, String method, String target, String host, MultiMap headers) {
    String time = Long.toString(System.currentTimeMillis());
    headers.set(Cluster.NODE_HEADER, node);
    headers.set(Cluster.TIME_HEADER, time);
    headers.set(Cluster.HOST_HEADER, host == null ? "" : host);
    headers.set(Cluster.SIGNATURE_HEADER, mac(node, time, method, target, host == null ? "" : host));
  }

  /** The sender's node name, or null when the headers are missing, stale or not signed with our secret. */
  String verify(String method, String target, MultiMap headers) {
    String node = headers.get(Cluster.NODE_HEADER);
    String time = headers.get(Cluster.TIME_HEADER);
    String host = headers.get(Cluster.HOST_HEADER);
    String signature = headers.get(Cluster.SIGNATURE_HEADER);
    if (node == null || time == null || host == null || signature == null) {
      return null;
    }
    long at;
    try {
      at = Long.parseLong(time);
    } catch (NumberFormatException e) {
      return null;
    }
    if (Math.abs(System.currentTimeMillis() - at) > WINDOW_MILLIS) {
      return null;
    }
    byte[] expected = mac(node, time, method, target, host).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII)) ? node : null;
  }

  private String mac(String node, String time, String method, String target, String host) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      String message = node + '\n' + time + '\n' + method + '\n' + target + '\n' + host;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
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
