package io.wakeport.supervision;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.SocketAddress;

/**
 * Where to forward a request, as handed out by the {@link Supervisor}, or another cluster node's
 * forward listener serving the instance.
 *
 * @param instance  the instance that serves it
 * @param address   its listening address (another node's forward listener when {@code toNode})
 * @param coldStart true when the request had to wait for the instance to start
 * @param toNode    sent to another cluster node, which serves the instance
 * @param nodeTls   TLS to that node (null for plain HTTP); unused unless {@code toNode}
 */
public record Backend(Instance instance, SocketAddress address, boolean coldStart, boolean toNode,
    ClientSSLOptions nodeTls) {

  public Backend(Instance instance, SocketAddress address, boolean coldStart) {
    this(instance, address, coldStart, false, null);
  }

  /** The forward listener of the node serving {@code instance}, over the cluster's TLS or plain HTTP. */
  public static Backend node(Instance instance, SocketAddress address, ClientSSLOptions tls) {
    return new Backend(instance, address, false, true, tls);
  }

  /** TLS of connections to {@link #address}: the node's, or the instance's (a remote member over https://), or null. */
  public ClientSSLOptions tls() {
    return toNode ? nodeTls : instance.tls();
  }
}
