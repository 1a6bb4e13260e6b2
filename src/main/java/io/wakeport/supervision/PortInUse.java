package io.wakeport.supervision;

import io.wakeport.config.KernelPorts;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Says whether a backend that died before it was ready could not bind its port. Its own output
 * may bury that, and the port probe cannot see a socket that is bound but not listening (an
 * outgoing connection's, typically). Blocking I/O: call from worker threads, and only after a
 * failure.
 */
final class PortInUse {

  private static final int LOG_BYTES = 8192;

  private PortInUse() {}

  /**
   * Why the backend on {@code port} could not bind, or null when nothing says it could not.
   *
   * @param logFrom where the failed process's output begins in {@code logFile}: earlier runs' output does not count
   */
  static String explain(String host, int port, Path logFile, long logFrom) {
    boolean held = held(host, port);
    if (!held && !logSaysInUse(logFile, logFrom)) {
      return null;
    }
    // The process has exited, so what holds the port now is someone else's; if it is free again,
    // only the backend's own output says it was taken.
    String message = "port " + port + (held ? " is" : " was") + " in use by another process";
    KernelPorts kernel = KernelPorts.current();
    if (kernel != null && kernel.contains(port)) {
      message += " (it lies in the kernel's ephemeral range " + kernel.range() + ", which outgoing connections use)";
    }
    return message;
  }

  /** A bind, not a connect: it also fails on a socket that is bound but does not listen. */
  static boolean held(String host, int port) {
    try (ServerSocket socket = new ServerSocket()) {
      // Lingering TIME_WAIT connections of the backend itself must not count.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(host, port), 1);
      return false;
    } catch (BindException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean logSaysInUse(Path logFile, long from) {
    if (logFile == null) {
      return false;
    }
    long size = LogFiles.size(logFile);
    String text = new String(LogFiles.readFrom(logFile, Math.max(from, size - LOG_BYTES)), StandardCharsets.UTF_8);
    // glibc's strerror, Node's and Go's spellings.
    return text.contains("Address already in use") || text.contains("EADDRINUSE") || text.contains("address already in use");
  }
}
