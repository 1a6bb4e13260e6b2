package io.wakeport.supervision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.TestBed;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a failed start finds out that its port was taken: a bind, and the backend's own output. */
class PortInUseTest {

  @TempDir Path dir;

  @Test
  void aPortBoundWithoutListeningOrListenedOnIsHeldAndAFreeOneIsNot() throws Exception {
    try (Socket bound = new Socket(); ServerSocket listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      bound.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      assertTrue(PortInUse.held("127.0.0.1", bound.getLocalPort()), "bound, not listening: a connect would not see it");
      assertTrue(PortInUse.held("127.0.0.1", listening.getLocalPort()));
    }
    assertFalse(PortInUse.held("127.0.0.1", TestBed.freePort()));
  }

  @Test
  void theBackendsOwnOutputCountsOnlyFromItsStart() throws Exception {
    int port = TestBed.freePort();
    Path log = dir.resolve("acme.log");
    Files.writeString(log, "an earlier run: bind: Address already in use\n");
    long from = Files.size(log);
    assertNull(PortInUse.explain("127.0.0.1", port, log, from), "nothing says this run's port was taken");
    Files.writeString(log, "Error: listen EADDRINUSE: address already in use :::" + port + "\n",
        java.nio.file.StandardOpenOption.APPEND);
    String why = PortInUse.explain("127.0.0.1", port, log, from);
    assertTrue(why.startsWith("port " + port + " was in use by another process"), "free again, so 'was': " + why);
    assertEquals(why.contains("ephemeral"), io.wakeport.config.KernelPorts.current() != null
        && io.wakeport.config.KernelPorts.current().contains(port));
  }
}
