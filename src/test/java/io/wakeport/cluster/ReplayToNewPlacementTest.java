package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.config.TenantConfig;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request whose owner is gone (its forward listener refuses the connection) is placed anew and
 * sent there, its body intact: the real forwarding code of an in-process wakeport, a real demo
 * backend, and a cluster of the test's own whose first placement names a loopback port where
 * nothing listens, its next one this node. Deterministic, unlike a kill -9 racing the end of a
 * membership (see ClusterTest).
 */
class ReplayToNewPlacementTest {

  @TempDir
  Path dir;

  private final GoneOwnerCluster cluster = new GoneOwnerCluster();
  private TestBed bed;

  @BeforeEach
  void start() throws Exception {
    cluster.deadPort = TestBed.freePort(); // nothing listens there: its connect is refused
    bed = TestBed.start(dir, TestBed.acmeTenant(""), cluster);
  }

  @AfterEach
  void stop() throws Exception {
    bed.close();
  }

  @Test
  void aGetGoesToTheNewPlacement() throws Exception {
    cluster.goneOwnerAnswers.set(1);
    HttpResponse<Buffer> got = bed.request(HttpMethod.GET, "acme.test", "/").timeout(60_000).send()
        .await(60, TimeUnit.SECONDS);
    assertEquals(200, got.statusCode(), got.bodyAsString());
    assertReplayed();
  }

  @Test
  void aPostIsReplayedThereWithItsBody() throws Exception {
    byte[] upload = new byte[48 * 1024];
    new Random(15).nextBytes(upload);
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(upload));
    cluster.goneOwnerAnswers.set(1);
    HttpResponse<Buffer> posted = bed.request(HttpMethod.POST, "acme.test", "/echo").timeout(60_000)
        .sendBuffer(Buffer.buffer(upload)).await(60, TimeUnit.SECONDS);
    assertEquals(200, posted.statusCode(), posted.bodyAsString());
    assertEquals("length=" + upload.length + "\nsha256=" + digest + "\n", posted.bodyAsString());
    assertReplayed();
  }

  /** The gone owner was tried (and found unreachable) before the request was placed here. */
  private void assertReplayed() {
    assertEquals(List.of("gone@acme"), cluster.unreachable, "the refusal reported, once");
    assertEquals(List.of("gone"), cluster.forwardedTo, "sent to the gone owner first");
    assertEquals(2, cluster.placed.get(), "placed twice: the gone owner, then here");
  }

  /** A cluster whose placement names a gone owner as many times as asked, then this node. */
  static final class GoneOwnerCluster implements Cluster {
    volatile int deadPort;
    final AtomicInteger goneOwnerAnswers = new AtomicInteger();
    final AtomicInteger placed = new AtomicInteger();
    final List<String> unreachable = new CopyOnWriteArrayList<>();
    final List<String> forwardedTo = new CopyOnWriteArrayList<>();

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public String node() {
      return "here";
    }

    @Override
    public Future<Placement> place(String key, TenantConfig tenant) {
      placed.incrementAndGet();
      return Future.succeededFuture(goneOwnerAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0
          ? new Placement("gone", "127.0.0.1", deadPort, false) : HERE);
    }

    @Override
    public Future<String> claim(String key, TenantConfig tenant) {
      return Future.succeededFuture(node());
    }

    @Override
    public void servedHere(String key) {}

    @Override
    public boolean unreachable(String key, String node, boolean refused) {
      unreachable.add(node + "@" + key);
      return refused; // as a real cluster: a refused owner is gone, the request goes to a new placement
    }

    @Override
    public void stopped(String key, java.util.function.BooleanSupplier stillStopped) {}

    @Override
    public void started(String key) {}

    @Override
    public void sign(String node, String method, String target, String host, String scheme, MultiMap headers) {
      headers.set(NODE_HEADER, node());
    }

    @Override
    public Verified verify(String method, String target, MultiMap headers) {
      return new Verified(null, "no forward listener in this test", false);
    }

    @Override
    public void forwardedTo(String node) {
      forwardedTo.add(node);
    }

    @Override
    public void forwardedIn() {}

    @Override
    public Future<Void> drain() {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> undrain() {
      return Future.succeededFuture();
    }

    @Override
    public void definitions(java.util.Map<String, String> digests) {}

    @Override
    public Future<JsonObject> describe() {
      return Future.succeededFuture(new JsonObject().put("enabled", true));
    }

    @Override
    public void onNodeLeft(Runnable action) {}

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
