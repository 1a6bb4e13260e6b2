package io.wakeport.cli;

import java.net.BindException;

/**
 * Recognises a front port that cannot be bound (in use, not a local address, privileged) in what
 * {@code Wakeport.start} throws, so the operator reads the address and the reason, not a trace.
 */
final class BindFailure {

  private BindFailure() {}

  /**
   * The operating system's reason ("Address already in use"), or null when {@code failure} is not
   * a bind failure. NIO throws a {@link BindException}; the epoll transport a Netty
   * {@code NativeIoException} whose message reads {@code bind(..) failed with error(-98): Address already in use}.
   */
  static String reason(Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth++ < 20; t = t.getCause()) { // bounded: a cause chain may loop
      String message = t.getMessage();
      if (t instanceof BindException || message != null && message.startsWith("bind(")) {
        if (message == null) {
          return "cannot bind";
        }
        int colon = message.lastIndexOf(": ");
        return colon < 0 ? message : message.substring(colon + 2);
      }
    }
    return null;
  }

  /** The https listen address named by a failed bind of an https listener ({@code https.listen ADDR: …}), else null. */
  static String httpsAddress(Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth++ < 20; t = t.getCause()) {
      String message = t.getMessage();
      if (t instanceof BindException && message != null && message.startsWith("https.listen ")) {
        int colon = message.indexOf(": ");
        return colon < 0 ? null : message.substring("https.listen ".length(), colon);
      }
    }
    return null;
  }

  /** host:port, with an IPv6 host in brackets as the listen key writes it. */
  static String address(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
