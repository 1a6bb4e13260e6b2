package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

/** Signatures between nodes: each one good once, with a nonce of its own, and memory of them bounded. */
class ForwardAuthTest {

  private static final String SECRET = "a-cluster-secret-of-the-test-0123456789";
  private static final ForwardAuth N1 = new ForwardAuth("n1", SECRET);

  /** A GET of {@code target} signed by {@code auth} (node n1) for node n2. */
  private static MultiMap signed(ForwardAuth auth, String target) {
    return signed(auth, target, "n2");
  }

  private static MultiMap signed(ForwardAuth auth, String target, String to) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    auth.sign(to, "GET", target, "acme.test", "http", headers);
    return headers;
  }

  @Test
  void aSignatureIsGoodOnceAndItsReplayIsRefused() {
    ForwardAuth sender = new ForwardAuth("n1", SECRET);
    ForwardAuth receiver = new ForwardAuth("n2", SECRET);
    MultiMap headers = signed(sender, "/a");
    assertEquals(22, headers.get(Cluster.NONCE_HEADER).length(), "128 random bits, base64url");
    assertEquals(new Cluster.Verified("n1", null, false), receiver.verify("GET", "/a", headers));
    Cluster.Verified replayed = receiver.verify("GET", "/a", headers);
    assertNull(replayed.node());
    assertTrue(replayed.replay() && replayed.refusal().contains("replayed"), replayed.refusal());
    // The same request signed again carries a nonce of its own: good.
    MultiMap again = signed(sender, "/a");
    assertNotEquals(headers.get(Cluster.NONCE_HEADER), again.get(Cluster.NONCE_HEADER));
    assertEquals("n1", receiver.verify("GET", "/a", again).node());
  }

  @Test
  void aSignatureForOneNodeIsRefusedByAnother() {
    ForwardAuth n1 = new ForwardAuth("n1", SECRET);
    ForwardAuth n2 = new ForwardAuth("n2", SECRET);
    ForwardAuth n3 = new ForwardAuth("n3", SECRET);
    // Captured on its way from n3 to n1: each node remembers only its own nonces, so n2 must refuse it by itself.
    MultiMap forN1 = signed(n3, "/a", "n1");
    assertEquals(new Cluster.Verified(null, "badly signed request", false), n2.verify("GET", "/a", forN1));
    assertEquals(new Cluster.Verified(null, "badly signed request", false), n3.verify("GET", "/a", forN1));
    assertEquals("n3", n1.verify("GET", "/a", forN1).node(), "its own node takes it");
  }

  @Test
  void theSchemeIsSigned() {
    ForwardAuth n1 = new ForwardAuth("n1", SECRET);
    ForwardAuth n2 = new ForwardAuth("n2", SECRET);
    MultiMap headers = signed(n1, "/a");
    headers.set(Cluster.SCHEME_HEADER, "https"); // a client of plain HTTP passed off as one of TLS
    assertEquals(new Cluster.Verified(null, "badly signed request", false), n2.verify("GET", "/a", headers));
    headers.remove(Cluster.SCHEME_HEADER);
    assertEquals(new Cluster.Verified(null, "unsigned request", false), n2.verify("GET", "/a", headers));
  }

  @Test
  void theNonceIsSigned() {
    ForwardAuth auth = new ForwardAuth("n2", SECRET);
    MultiMap headers = signed(new ForwardAuth("n1", SECRET), "/a");
    headers.set(Cluster.NONCE_HEADER, "AAAAAAAAAAAAAAAAAAAAAA"); // a fresh nonce on a captured signature
    assertEquals(new Cluster.Verified(null, "badly signed request", false), auth.verify("GET", "/a", headers));
    headers.remove(Cluster.NONCE_HEADER);
    assertEquals(new Cluster.Verified(null, "unsigned request", false), auth.verify("GET", "/a", headers));
  }

  @Test
  void badSignaturesAreNotRemembered() {
    ForwardAuth auth = new ForwardAuth("n2", SECRET, 1);
    MultiMap forged = signed(new ForwardAuth("n1", "another-secret-0123456789abcdef"), "/a");
    assertEquals("badly signed request", auth.verify("GET", "/a", forged).refusal());
    assertEquals("badly signed request", auth.verify("GET", "/a", forged).refusal(), "not a replay: never accepted");
    assertEquals("n1", auth.verify("GET", "/a", signed(N1, "/a")).node(), "the forgeries took no room");
  }

  @Test
  void whenFullItRefusesRatherThanForgets() {
    ForwardAuth auth = new ForwardAuth("n2", SECRET, 2);
    MultiMap first = signed(N1, "/1");
    assertEquals("n1", auth.verify("GET", "/1", first).node());
    assertEquals("n1", auth.verify("GET", "/2", signed(N1, "/2")).node());
    Cluster.Verified third = auth.verify("GET", "/3", signed(N1, "/3"));
    assertNull(third.node());
    assertTrue(third.refusal().contains("2 nonces within the window"), third.refusal());
    assertTrue(auth.verify("GET", "/1", first).refusal().contains("replayed"), "the first is still remembered");
  }
}
